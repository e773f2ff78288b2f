package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/internal/config"
	"github.com/coppice-dev/coppice/internal/metrics"
	"github.com/coppice-dev/coppice/internal/server"
	"github.com/coppice-dev/coppice/storage"
	"github.com/prometheus/client_golang/prometheus"
)

func runServe(ctx context.Context, args []string, env func(string) string, stderr io.Writer) (err error) {
	cfg := config.Default()
	fs := newFlagSet("serve")
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "address to listen on (COPPICE_LISTEN)")
	fs.StringVar(&cfg.BaseURL, "base-url", cfg.BaseURL, "public URL ids and links are built from, port included (COPPICE_BASE_URL)")
	dbFlag(fs, &cfg)
	dataFlag(fs, &cfg)
	fs.Int64Var(&cfg.MaxUpload, "max-upload", cfg.MaxUpload, "largest uploaded file in bytes (COPPICE_MAX_UPLOAD)")
	fs.BoolVar(&cfg.InsecureFederation, "insecure-federation", false, "allow http:// peers and loopback or private addresses; for local testing only (COPPICE_INSECURE_FEDERATION=1)")
	fs.BoolVar(&cfg.AuthorizedFetch, "authorized-fetch", false, "require signed GETs of objects, collections and actors, as Mastodon's secure mode (COPPICE_AUTHORIZED_FETCH=1)")
	fs.StringVar(&cfg.MetricsListen, "metrics-listen", "", "address to serve Prometheus metrics on at /metrics, e.g. 127.0.0.1:9464; empty for none (COPPICE_METRICS_LISTEN)")
	fs.StringVar(&cfg.TrustedProxy, "trusted-proxy", "", "reverse proxies (CIDRs, comma separated) whose X-Forwarded-For names the client (COPPICE_TRUSTED_PROXY)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error (COPPICE_LOG_LEVEL)")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json (COPPICE_LOG_FORMAT)")
	fs.IntVar(&cfg.InboxActorBurst, "inbox-actor-burst", 0, "activities one actor may send at once before the rate limit; 0 for the default, 20 (COPPICE_INBOX_ACTOR_BURST)")
	fs.IntVar(&cfg.InboxHostBurst, "inbox-host-burst", 0, "activities one host may send at once before the rate limit; 0 for the default, 300 (COPPICE_INBOX_HOST_BURST)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file, for load tests (COPPICE_CPUPROFILE)")
	pos, err := parse(fs, args, env)
	if errors.Is(err, flag.ErrHelp) {
		return printDefaults(fs, stderr)
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Errorf("serve takes no arguments, got %q", pos)}
	}
	if err := cfg.Validate(); err != nil {
		return usageError{err}
	}
	if tuneGC(env) {
		go followLiveHeap(ctx)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{fmt.Errorf("log-level: %w", err)}
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(stderr, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(stderr, opts)
	}
	// Every line logged with a request's context carries its request_id.
	log := slog.New(server.LogHandler(h))
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stop()) }()
	}
	return serve(ctx, cfg, log)
}

// startCPUProfile profiles the process into path until the returned stop
// is called (cmd/coppice-load profiles the server under load with it).
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		return nil
	}, nil
}

func printDefaults(fs *flag.FlagSet, w io.Writer) error {
	fs.SetOutput(w)
	fs.PrintDefaults()
	return nil
}

// serve runs the instance described by cfg until ctx ends.
func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	base, err := config.ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return err
	}
	unlock, err := lockDatabase(cfg.DB)
	if err != nil {
		return err
	}
	defer unlock()
	m := metrics.New(prometheus.NewRegistry())
	store, err := storage.Open(ctx, cfg.DB, storage.WithTxObserver(m.WriteTransaction), storage.WithRetryObserver(m.WriteRetried))
	if err != nil {
		return err
	}
	defer store.Close()
	proxies, err := config.ParseTrustedProxies(cfg.TrustedProxy)
	if err != nil {
		return err
	}
	inst, err := server.NewInstance(ctx, server.Options{Store: store, BaseURL: base,
		MediaDir: filepath.Join(cfg.Data, "media"), Version: version, Log: log, Metrics: m,
		InsecureFederation: cfg.InsecureFederation, AuthorizedFetch: cfg.AuthorizedFetch, TrustedProxies: proxies,
		Rate:      federation.Rate{ActorBurst: cfg.InboxActorBurst, HostBurst: cfg.InboxHostBurst},
		MaxUpload: cfg.MaxUpload})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var mln net.Listener
	if cfg.MetricsListen != "" {
		if mln, err = net.Listen("tcp", cfg.MetricsListen); err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics: %w", err)
		}
	}
	log.Info("serving", "listen", ln.Addr().String(), "base_url", base.String(), "db", storage.Redacted(cfg.DB), "engine", store.Engine(),
		"insecure_federation", cfg.InsecureFederation, "authorized_fetch", cfg.AuthorizedFetch)
	if mln != nil {
		log.Info("serving metrics", "listen", mln.Addr().String(), "path", "/metrics")
	}
	if cfg.InsecureFederation {
		log.Warn("insecure federation: http:// peers and private addresses are allowed; for local testing only")
	}
	if strings.HasPrefix(base.String(), "http://") && !cfg.InsecureFederation {
		log.Warn("base URL is http://; real fediverse servers only federate over https")
	}
	// On SIGTERM ctx ends: the listeners stop accepting and drain their
	// requests, and the worker finishes the deliveries it is sending, all
	// at once and each within about 10 s; then the worker releases its
	// claims and the store closes.
	wctx, stopWorker := context.WithCancel(ctx)
	werr := make(chan error, 1)
	go func() { werr <- inst.Run(wctx) }()
	merr := make(chan error, 1)
	if mln != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		go func() { merr <- server.Serve(ctx, mln, mux, log) }()
	} else {
		merr <- nil
	}
	err = server.Serve(ctx, ln, inst, log)
	log.Info("stopping")
	stopWorker()
	err = errors.Join(err, <-merr, <-werr)
	log.Info("stopped")
	return err
}
