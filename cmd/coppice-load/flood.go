package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// flood is SECURITY.md's RAT-01: unsigned POSTs to the shared inbox, as
// fast as --conns connections from one address send them. Every one must
// be refused (401, or 503 when the address has too many in flight), and a
// refusal must cost the server under 50 µs of CPU: no database, no
// network.
type floodConfig struct {
	db, binary, serverLog string
	requests, conns       int
}

func runFlood(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg floodConfig
	fs := flag.NewFlagSet("flood", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.db, "db", "load.db", "SQLite file the server runs on (created when missing)")
	fs.StringVar(&cfg.binary, "coppice", "bin/coppice", "the coppice binary to start")
	fs.IntVar(&cfg.requests, "requests", 10000, "unsigned POSTs to send")
	fs.IntVar(&cfg.conns, "conns", 16, "concurrent connections, all from 127.0.0.1")
	fs.StringVar(&cfg.serverLog, "server-log", "", "append the server's log to this file (default: discarded)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.requests < 1 || cfg.conns < 1 {
		return errors.New("flood: --requests and --conns must be ≥ 1")
	}
	return flood(ctx, cfg, stdout)
}

func flood(ctx context.Context, cfg floodConfig, stdout io.Writer) error {
	logs, closeLogs, err := openServerLog(cfg.serverLog)
	if err != nil {
		return err
	}
	defer closeLogs()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.conns, MaxConnsPerHost: cfg.conns}}
	srv, err := startServer(ctx, client, cfg.binary, cfg.db, "", "", logs)
	if err != nil {
		return err
	}
	defer srv.Stop()
	body := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://flood.example/follows/1","type":"Follow","actor":"https://flood.example/users/1","object":"` + srv.URL + `/c/loadtest"}`)
	header := http.Header{"Content-Type": {"application/activity+json"}}
	reqs := make([]signedPost, cfg.requests)
	for i := range reqs {
		reqs[i] = signedPost{url: srv.URL + "/inbox", body: body, header: header}
	}
	cpu0, err := srv.CPU()
	if err != nil {
		return err
	}
	r := send(client, reqs, cfg.conns)
	cpu1, err := srv.CPU()
	if err != nil {
		return err
	}
	rss, err := srv.Status("VmHWM")
	if err != nil {
		return err
	}
	refused := r.statuses[http.StatusUnauthorized] + r.statuses[http.StatusServiceUnavailable]
	fmt.Fprintf(stdout, "workload: %d unsigned POSTs of a Follow to the shared inbox, %d connections from 127.0.0.1, one server process\n", r.sent, cfg.conns)
	fmt.Fprintf(stdout, "answers:  %v in %s: %.0f requests/s; %d of %d refused (401 or 503)\n", r.statuses, r.wall.Round(time.Millisecond), float64(r.sent)/r.wall.Seconds(), refused, r.sent)
	fmt.Fprintf(stdout, "server:   %.1f µs CPU per request (%s in all, /proc/PID/stat; target < 50 µs); peak RSS %d MB\n",
		float64((cpu1-cpu0).Nanoseconds())/1000/float64(r.sent), cpu1-cpu0, rss>>10)
	if refused != r.sent {
		return fmt.Errorf("flood: %d of %d unsigned POSTs were not refused", r.sent-refused, r.sent)
	}
	return nil
}
