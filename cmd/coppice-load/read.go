package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coppice-dev/coppice/federation/signature"
)

// readConfig is the read-path workload (issue 13's BM-4): GETs of a
// community's Group actor and of the first page of its outbox, as peers
// and crawlers send them, over many connections.
type readConfig struct {
	db, binary, community, serverLog string
	cpuProfile                       string
	requests, conns                  int
	// authorizedFetch starts the server with --authorized-fetch and signs
	// every GET, as the remote actors of a peer do.
	authorizedFetch bool
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
	fs.BoolVar(&cfg.authorizedFetch, "authorized-fetch", false, "run the server with --authorized-fetch and sign every GET (20 remote actors, each request signed once before the run and sent again)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.requests < 2 || cfg.conns < 1 {
		return errors.New("read: --requests must be ≥ 2 and --conns ≥ 1")
	}
	return read(ctx, cfg, stdout)
}

func read(ctx context.Context, cfg readConfig, stdout io.Writer) error {
	logs, closeLogs, err := openServerLog(cfg.serverLog)
	if err != nil {
		return err
	}
	defer closeLogs()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.conns, MaxConnsPerHost: cfg.conns}}
	var extra []string
	var remote *remoteHost
	if cfg.authorizedFetch {
		var err error
		if remote, err = startRemote(20); err != nil {
			return err
		}
		defer remote.Close()
		extra = append(extra, "--authorized-fetch")
	}
	srv, err := startServer(ctx, client, cfg.binary, cfg.db, "", cfg.cpuProfile, logs, extra...)
	if err != nil {
		return err
	}
	defer srv.Stop()
	reqs, err := readRequests(srv.URL, cfg.community, remote)
	if err != nil {
		return err
	}
	for _, r := range reqs { // warm up (the keys of the signers too), and check the community is there
		if code := get(client, r); code != http.StatusOK {
			return fmt.Errorf("GET %s: %d", r.URL, code)
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
				code := get(client, reqs[i%len(reqs)])
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
	signed := "unsigned"
	if cfg.authorizedFetch {
		signed = "signed, --authorized-fetch"
	}
	fmt.Fprintf(stdout, "read path (BM-4): %d GETs (%s) of %s and its outbox's first page, %d connections\n", cfg.requests, signed, cfg.community, cfg.conns)
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

// readRequests returns the GETs of the run: the community's actor and its
// outbox's first page, in turn; with remote, each signed by each of its
// authors (a signature is good for hours, and peers' fetchers reuse none,
// but the server verifies a reused one as it would a fresh one).
func readRequests(base, community string, remote *remoteHost) ([]*http.Request, error) {
	urls := []string{base + "/c/" + community, base + "/c/" + community + "/outbox?page=1"}
	signers := []string{""}
	if remote != nil {
		signers = remote.authors
	}
	var out []*http.Request
	for _, name := range signers {
		for _, u := range urls {
			r, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				return nil, err
			}
			r.Header.Set("Accept", "application/activity+json")
			if name != "" {
				if err := signature.Sign(r, nil, remote.keyID(name), remote.key, time.Now()); err != nil {
					return nil, err
				}
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// get sends a copy of r as a peer does and returns the status (0 when it
// failed).
func get(client *http.Client, r *http.Request) int {
	req, err := http.NewRequest(http.MethodGet, r.URL.String(), nil)
	if err != nil {
		return 0
	}
	req.Header = r.Header.Clone()
	res, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}
