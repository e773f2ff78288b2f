package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/storage"
)

// restartConfig is the workload of `coppice-load restart` (SECURITY.md
// FLT-13): `coppice serve` restarted on a database whose delivery queue
// holds a million due rows must answer HTTP within 2 s, and go on
// delivering at the rate it has with a short queue.
type restartConfig struct {
	db, binary, serverLog     string
	deliveries, hosts, starts int
	port                      int
	run, latency              time.Duration
}

func runRestart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg restartConfig
	fs := flag.NewFlagSet("restart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.db, "db", "load.db", "SQLite file the server runs on (created when missing)")
	fs.StringVar(&cfg.binary, "coppice", "bin/coppice", "the coppice binary to start")
	fs.IntVar(&cfg.deliveries, "deliveries", 1_000_000, "queued deliveries to start with: the queue is topped up to this many due rows")
	fs.IntVar(&cfg.hosts, "hosts", 100, "hosts the deliveries go to, on loopback addresses 127.1.0.1 and up")
	fs.IntVar(&cfg.port, "port", 18090, "port of every host: the queue names them, so it must stay the same between runs")
	fs.IntVar(&cfg.starts, "restarts", 3, "times to start the server")
	fs.DurationVar(&cfg.run, "run", 20*time.Second, "how long each server delivers before it is stopped")
	fs.DurationVar(&cfg.latency, "latency", 50*time.Millisecond, "how long a host takes to answer a delivery")
	fs.StringVar(&cfg.serverLog, "server-log", "", "append the server's log to this file (default: discarded)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.deliveries < 0 || cfg.hosts < 1 || cfg.hosts > 250*250 || cfg.starts < 1 || cfg.port < 1 || cfg.port > 65535 {
		return errors.New("restart: want --deliveries ≥ 0, 1 ≤ --hosts ≤ 62500, --restarts ≥ 1 and a port")
	}
	return restart(ctx, cfg, stdout)
}

// restartCommunity holds the activities of the seeded queue.
const restartCommunity = "restart_queue"

func restart(ctx context.Context, cfg restartConfig, stdout io.Writer) error {
	fl, err := startFleet(hostMix{hosts: cfg.hosts}, cfg.latency, func(i int) string {
		return fmt.Sprintf("127.1.%d.%d:%d", i/250, 1+i%250, cfg.port)
	})
	if err != nil {
		return err
	}
	defer fl.Close()
	queued, took, err := fillQueue(ctx, cfg, fl)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restart (FLT-13): %d queued deliveries, all due, on %d hosts that answer after %s (%d added in %s through storage.SeedDeliveries)\n",
		queued.total, cfg.hosts, cfg.latency, queued.added, took.Round(time.Millisecond))

	logs, closeLogs, err := openServerLog(cfg.serverLog)
	if err != nil {
		return err
	}
	defer closeLogs()
	client := &http.Client{Timeout: 30 * time.Second}
	for i := 1; i <= cfg.starts; i++ {
		if err := restartOnce(ctx, cfg, client, fl, logs, i, stdout); err != nil {
			return err
		}
	}
	return nil
}

type queueFill struct{ total, added int }

// fillQueue tops the queue up to cfg.deliveries rows, all due now, in
// batches of 10,000 deliveries of one activity each, to inboxes spread
// over the fleet's hosts; the fleet checks signatures with the key of the
// community that sends them.
func fillQueue(ctx context.Context, cfg restartConfig, fl *fleet) (queueFill, time.Duration, error) {
	st, err := storage.Open(ctx, cfg.db)
	if err != nil {
		return queueFill{}, 0, err
	}
	defer st.Close()
	svc := community.New(st, time.Now, nil, community.Options{})
	c, err := svc.Community(ctx, restartCommunity)
	if errors.Is(err, community.ErrNotFound) {
		c, err = svc.CreateCommunity(ctx, community.NewCommunity{Name: restartCommunity, Title: "Restart load test", Summary: "Deliveries queued by coppice-load restart"})
	}
	if err != nil {
		return queueFill{}, 0, err
	}
	pub, err := keypair.ParsePublic(c.PublicKeyPEM)
	if err != nil {
		return queueFill{}, 0, err
	}
	if err := fl.setVerifyKey(pub); err != nil {
		return queueFill{}, 0, err
	}
	queued, _, err := st.QueueStats(ctx)
	if err != nil {
		return queueFill{}, 0, err
	}
	t0 := time.Now()
	const perActivity = 10_000
	ds := make([]storage.Delivery, 0, perActivity)
	run := t0.UnixNano()
	for added := 0; queued+added < cfg.deliveries; {
		now := time.Now()
		iri := fmt.Sprintf("http://coppice.invalid/c/%s/activities/%x-%d", restartCommunity, run, added)
		body := fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Announce","actor":"http://coppice.invalid/c/%s",`+
			`"to":["https://www.w3.org/ns/activitystreams#Public"],"object":"http://remote.invalid/notes/%x-%d"}`, iri, restartCommunity, run, added)
		var id int64
		err := st.InTx(ctx, func(tx *storage.Tx) error {
			var err error
			id, err = tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: iri, CommunityID: c.ID, Type: "Announce",
				KeyID: "http://coppice.invalid/c/" + restartCommunity + "#main-key", Body: []byte(body), CreatedAt: now})
			return err
		})
		if err != nil {
			return queueFill{}, 0, err
		}
		ds = ds[:0]
		for j := 0; j < perActivity && queued+added < cfg.deliveries; j++ {
			h := fl.hosts[j%len(fl.hosts)]
			ds = append(ds, storage.Delivery{ActivityID: id, Inbox: fmt.Sprintf("%s/users/u%d/inbox", h.url, j/len(fl.hosts)),
				NextAttemptAt: now, QueuedAt: now})
			added++
		}
		if err := st.SeedDeliveries(ctx, ds); err != nil {
			return queueFill{}, 0, err
		}
		if ctx.Err() != nil {
			return queueFill{}, 0, ctx.Err()
		}
	}
	total, _, err := st.QueueStats(ctx)
	return queueFill{total: total, added: total - queued}, time.Since(t0), err
}

// restartOnce starts the server, times its first answer and its first
// delivery, lets it deliver for cfg.run, times the delivery health check
// and a metrics scrape (both read the queue), and stops it.
func restartOnce(ctx context.Context, cfg restartConfig, client *http.Client, fl *fleet, logs io.Writer, i int, stdout io.Writer) error {
	base := fl.posts.Load()
	srv, err := startServer(ctx, client, cfg.binary, cfg.db, "", "", logs)
	if err != nil {
		return err
	}
	defer srv.Stop()
	if err := waitFor(ctx, time.Minute, func() (bool, string) {
		return fl.posts.Load() > base, "no delivery yet"
	}); err != nil {
		return fmt.Errorf("restart %d: %w", i, err)
	}
	first := time.Since(srv.Started)
	n0, t0 := fl.posts.Load(), time.Now()
	select {
	case <-time.After(cfg.run):
	case <-ctx.Done():
		return ctx.Err()
	}
	n1, t1 := fl.posts.Load(), time.Now()
	health, err := timeGET(client, srv.URL+"/healthz/delivery")
	if err != nil {
		return err
	}
	scrape, err := timeGET(client, srv.Metrics)
	if err != nil {
		return err
	}
	rss, err := srv.Status("VmHWM")
	if err != nil {
		return err
	}
	stopAt := time.Now()
	if err := srv.Stop(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "start %d: serving (GET /healthz 200) after %s; first delivery after %s; %.0f deliveries/s over %s; "+
		"GET /healthz/delivery %s, GET /metrics %s; stopped in %s; peak RSS %d MB; %d deliveries refused by the hosts\n",
		i, srv.Ready.Round(time.Millisecond), first.Round(time.Millisecond), float64(n1-n0)/t1.Sub(t0).Seconds(), cfg.run,
		health.Round(time.Millisecond), scrape.Round(time.Millisecond), time.Since(stopAt).Round(time.Millisecond), rss>>10, fl.rejected.Load())
	return nil
}

// timeGET GETs u and returns how long the answer took; anything but 200
// is an error.
func timeGET(client *http.Client, u string) (time.Duration, error) {
	t0 := time.Now()
	res, err := client.Get(u)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", u, res.Status)
	}
	return time.Since(t0), err
}
