package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// readConfig is the read-path workload (issue 13's BM-4): GETs of a
// community's Group actor and of the first page of its outbox, as peers
// and crawlers send them, over many connections.
type readConfig struct {
	db, binary, community, serverLog string
	cpuProfile                       string
	requests, conns                  int
}

func runRead(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg readConfig
	fs := flag.NewFlagSet("read", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.db, "db", "load.db", "SQLite file the server runs on (it must hold the community)")
	fs.StringVar(&cfg.binary, "coppice", "bin/coppice", "the coppice binary to start")
	fs.StringVar(&cfg.community, "community", "loadtest", "community whose actor and outbox are read")
	fs.IntVar(&cfg.requests, "requests", 20000, "GETs to send, half of the actor, half of its outbox's first page")
	fs.IntVar(&cfg.conns, "conns", 64, "concurrent connections")
	fs.StringVar(&cfg.serverLog, "server-log", "", "append the server's log to this file (default: discarded)")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "have the server write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.requests < 2 || cfg.conns < 1 {
		return errors.New("read: --requests must be ≥ 2 and --conns ≥ 1")
	}
	return read(ctx, cfg, stdout)
}

func read(ctx context.Context, cfg readConfig, stdout io.Writer) error {
	logs := io.Discard
	if cfg.serverLog != "" {
		f, err := os.OpenFile(cfg.serverLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		logs = f
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.conns, MaxConnsPerHost: cfg.conns}}
	srv, err := startServer(ctx, client, cfg.binary, cfg.db, cfg.cpuProfile, logs)
	if err != nil {
		return err
	}
	defer srv.Stop()
	urls := []string{srv.URL + "/c/" + cfg.community, srv.URL + "/c/" + cfg.community + "/outbox?page=1"}
	for _, u := range urls { // warm up, and check the community is there
		if code := get(client, u); code != http.StatusOK {
			return fmt.Errorf("GET %s: %d", u, code)
		}
	}
	cpu0, err := srv.CPU()
	if err != nil {
		return err
	}
	own0 := ownCPU()
	var next atomic.Int64
	var mu sync.Mutex
	lat := make([]time.Duration, 0, cfg.requests)
	statuses := map[int]int{}
	start := time.Now()
	var wg sync.WaitGroup
	for range cfg.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= cfg.requests {
					return
				}
				t := time.Now()
				code := get(client, urls[i%2])
				d := time.Since(t)
				mu.Lock()
				statuses[code]++
				if code == http.StatusOK {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	cpu1, err := srv.CPU()
	if err != nil {
		return err
	}
	own := ownCPU() - own0
	slices.Sort(lat)
	fmt.Fprintf(stdout, "read path (BM-4): %d GETs of %s and its outbox's first page, %d connections\n", cfg.requests, cfg.community, cfg.conns)
	fmt.Fprintf(stdout, "  ok %d of %d (statuses %v) in %v: %.0f requests/s\n", len(lat), cfg.requests, statuses, wall.Round(time.Millisecond), float64(len(lat))/wall.Seconds())
	// percentile takes percents, as ingest's report does.
	fmt.Fprintf(stdout, "  p50 %v  p90 %v  p99 %v  max %v\n", percentile(lat, 50).Round(10*time.Microsecond),
		percentile(lat, 90).Round(10*time.Microsecond), percentile(lat, 99).Round(10*time.Microsecond), percentile(lat, 100).Round(10*time.Microsecond))
	n := time.Duration(max(len(lat), 1))
	fmt.Fprintf(stdout, "  server CPU %v, %v per request; client CPU %v, %v per request\n", (cpu1 - cpu0).Round(time.Millisecond),
		((cpu1 - cpu0) / n).Round(time.Microsecond), own.Round(time.Millisecond), (own / n).Round(time.Microsecond))
	return nil
}

// ownCPU returns the user plus system CPU time this process has used: the
// client shares the machine with the server it measures.
func ownCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// get GETs u as a peer does and returns the status (0 when it failed).
func get(client *http.Client, u string) int {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return 0
	}
	req.Header.Set("Accept", "application/activity+json")
	res, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
