package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/storage"
)

// fanoutConfig is the workload of `coppice-load fanout`: BM-1's load into
// a community with followers (issue 13, "with fan-out").
type fanoutConfig struct {
	db, binary, cpuProfile, serverLog string
	fleetProfile                      string
	posts, authors, conns, followers  int
	lead                              int
	processes                         int
	mix                               hostMix
	latency, drainLimit               time.Duration
}

func runFanout(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg fanoutConfig
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.db, "db", "load.db", "SQLite file the server runs on (created when missing)")
	fs.StringVar(&cfg.binary, "coppice", "bin/coppice", "the coppice binary to start")
	fs.IntVar(&cfg.posts, "posts", 3000, "posts to measure, after one warm-up post per author and the --lead posts")
	fs.IntVar(&cfg.lead, "lead", 100, "posts sent before the measured ones, which come in once those posts' deliveries are running")
	fs.IntVar(&cfg.authors, "authors", 20, "authors, all on one remote host")
	fs.IntVar(&cfg.conns, "conns", 64, "concurrent connections")
	fs.IntVar(&cfg.processes, "processes", 1, "coppice serve processes on the database (more than one needs a postgres:// --db)")
	fs.IntVar(&cfg.followers, "followers", 1000, "followers of the community, spread evenly over the hosts")
	fs.IntVar(&cfg.mix.hosts, "hosts", 100, "follower hosts, on loopback addresses 127.0.1.1 and up")
	fs.IntVar(&cfg.mix.microblog, "microblog", 40, "hosts whose NodeInfo says mastodon or gotosocial")
	fs.IntVar(&cfg.mix.group, "group", 30, "hosts whose NodeInfo says lemmy (the rest run software the server does not know)")
	fs.DurationVar(&cfg.latency, "latency", 50*time.Millisecond, "how long a host takes to answer a delivery")
	fs.DurationVar(&cfg.drainLimit, "drain-limit", 20*time.Minute, "longest wait for the deliveries once the posts are in")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "have the server write a CPU profile of the run to this file")
	fs.StringVar(&cfg.serverLog, "server-log", "", "append the server's log to this file (default: discarded)")
	fs.StringVar(&cfg.fleetProfile, "fleet-cpuprofile", "", "write a CPU profile of this process (the fake hosts and the client) while the deliveries drain to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m := cfg.mix
	switch {
	case cfg.posts < 1 || cfg.authors < 1 || cfg.conns < 1 || cfg.processes < 1 || cfg.lead < 0:
		return errors.New("fanout: --posts, --authors, --conns and --processes must be ≥ 1, --lead ≥ 0")
	case m.hosts < 1 || m.hosts > 250*250 || m.microblog < 0 || m.group < 0 || m.microblog+m.group > m.hosts:
		return errors.New("fanout: want 1 ≤ --hosts ≤ 62500 and 0 ≤ --microblog + --group ≤ --hosts")
	case cfg.followers < m.hosts:
		return errors.New("fanout: --followers must be at least --hosts (every host has one that follows over HTTP)")
	}
	return fanout(ctx, cfg, stdout)
}

// fanoutResult is what one measured fan-out run gives.
type fanoutResult struct {
	ingest                result
	lead                  int     // posts accepted before the measured ones
	perPost               float64 // Announces per accepted post, measured
	delivered             int64   // Announces of the lead and measured posts
	duringIngest          int64   // of which while the measured posts came in
	afterIngest           int64   // of which after the last measured post was answered
	deliveryWall          time.Duration
	ingestWall, drainWall time.Duration
	drainCPU, totalCPU    time.Duration
	drainMachine          machineShare
	peakRSS               int64 // kB
	// signing is the signing rate before and after the run, with the
	// server's signer (signature.Key: OpenSSL) and with crypto/rsa
	// (signature.Sign); signCPU the CPU of one signature of each.
	signing    [2][2]float64
	signCPU    [2]time.Duration
	fleetCPU   time.Duration // this process's CPU while the deliveries drained
	drainConns int64         // connections the fleet accepted meanwhile
	drainErr   error
}

func fanout(ctx context.Context, cfg fanoutConfig, stdout io.Writer) error {
	// The fake hosts share the machine with the server under load: this
	// process collects garbage less often than Go's default (a tenth of
	// the fake hosts' CPU went to marking, issue 13). GOGC in the
	// environment wins.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}
	run := time.Now().UnixNano()
	name := fmt.Sprintf("fanout_%x", run&0xffffffff)
	fl, err := startFleet(cfg.mix, cfg.latency, fanoutAddr)
	if err != nil {
		return err
	}
	defer fl.Close()
	c, st, err := fanoutCommunity(ctx, cfg.db, name, fl, cfg.followers/cfg.mix.hosts)
	if err != nil {
		return err
	}
	defer st.Close()
	pub, err := keypair.ParsePublic(c.PublicKeyPEM)
	if err != nil {
		return err
	}
	if err := fl.setVerifyKey(pub); err != nil {
		return err
	}
	privPEM, err := st.SigningKey(ctx, c.ID)
	if err != nil {
		return err
	}
	priv, err := keypair.ParsePrivate(privPEM)
	if err != nil {
		return err
	}
	queued, failed, err := st.QueueStats(ctx)
	if err != nil {
		return err
	}
	posts, err := st.CountPosts(ctx)
	if err != nil {
		return err
	}

	remote, err := startRemote(cfg.authors)
	if err != nil {
		return err
	}
	defer remote.Close()
	logs, closeLogs, err := openServerLog(cfg.serverLog)
	if err != nil {
		return err
	}
	defer closeLogs()
	client := &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConns: cfg.conns, MaxIdleConnsPerHost: cfg.conns, MaxConnsPerHost: cfg.conns},
	}
	srv, err := startCluster(ctx, client, cfg.processes, cfg.binary, cfg.db, cfg.cpuProfile, logs)
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Fprintf(stdout, "%s on %s, which holds %d posts and %d queued, %d failed deliveries; %d CPUs\n",
		srv.Describe(), storage.Redacted(cfg.db), posts, queued, failed, runtime.NumCPU())

	communityIRI := srv.URL + "/c/" + name
	perHost := cfg.followers / cfg.mix.hosts
	if err := followOverHTTP(ctx, client, fl, communityIRI, run); err != nil {
		return fmt.Errorf("follows: %w", err)
	}
	if err := checkSoftware(ctx, st, fl); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "community %s: %d followers, %d on each of %d hosts (the first of each followed over HTTP, the others were seeded through storage); software learnt from NodeInfo\n",
		name, perHost*cfg.mix.hosts, perHost, cfg.mix.hosts)

	l := &load{remote: remote, inbox: srv.URL + "/inbox", community: communityIRI, run: run, route: srv.route}
	warm, err := l.sign(0, cfg.authors)
	if err != nil {
		return err
	}
	if r := send(client, warm, 1); r.accepted != len(warm) {
		return fmt.Errorf("warm-up: %d of %d posts accepted (statuses %v)", r.accepted, len(warm), r.statuses)
	}
	perPost := int64(cfg.mix.perPost())
	if err := waitFor(ctx, 5*time.Minute, func() (bool, string) {
		n := fl.announces.Load()
		return n >= int64(len(warm))*perPost, fmt.Sprintf("warm-up: %d of %d Announces delivered", n, int64(len(warm))*perPost)
	}); err != nil {
		return err
	}
	leadReqs, err := l.sign(cfg.authors, cfg.lead)
	if err != nil {
		return err
	}
	reqs, err := l.sign(cfg.authors+cfg.lead, cfg.posts)
	if err != nil {
		return err
	}
	// The machine is shared: measure the signing rate on both sides of
	// the run and take the mean.
	sample := fl.sample.Load()
	if sample == nil {
		return errors.New("no Announce{activity} received to measure signing with")
	}
	keyID, sampleInbox := communityIRI+"#main-key", fl.hosts[0].sharedInbox()
	var res fanoutResult
	key, err := signature.NewKey(priv)
	if err != nil {
		return err
	}
	signers := [2]func(r *http.Request, body []byte) error{
		func(r *http.Request, body []byte) error { return key.Sign(r, body, keyID, time.Now()) },
		func(r *http.Request, body []byte) error { return signature.Sign(r, body, keyID, priv, time.Now()) },
	}
	var cpu [2][2]time.Duration
	for i, sign := range signers {
		if res.signing[i][0], cpu[i][0], err = signingRate(sign, sampleInbox, *sample, 3*time.Second); err != nil {
			return err
		}
	}
	base := fl.announces.Load()
	res.perPost = float64(base) / float64(len(warm))
	cpu0, err := srv.CPU()
	if err != nil {
		return err
	}
	t0 := time.Now()
	// The lead posts start the deliveries; the measured posts come in
	// once they run, as the "ingest p99 while deliveries run" asks.
	if len(leadReqs) > 0 {
		r := send(client, leadReqs, cfg.conns)
		if r.accepted != len(leadReqs) {
			return fmt.Errorf("lead: %d of %d posts accepted (statuses %v)", r.accepted, len(leadReqs), r.statuses)
		}
		res.lead = r.accepted
		running := min(int64(r.accepted)*perPost/4, 500)
		if err := waitFor(ctx, 5*time.Minute, func() (bool, string) {
			n := fl.announces.Load() - base
			return n >= running, fmt.Sprintf("lead: %d of the %d Announces that show deliveries are running", n, running)
		}); err != nil {
			return err
		}
	}
	ti := time.Now()
	w0, err := srv.writes(client)
	if err != nil {
		return err
	}
	before := fl.announces.Load()
	done := measureMachine()
	res.ingest = send(client, reqs, cfg.conns)
	res.ingest.machine = done()
	res.duringIngest = fl.announces.Load() - before
	w1, err := srv.writes(client)
	if err != nil {
		return err
	}
	res.ingest.writes = w1.sub(w0)
	t1 := time.Now()
	cpu1, err := srv.CPU()
	if err != nil {
		return err
	}
	res.ingestWall = t1.Sub(ti)
	after := fl.announces.Load() - base
	want := base + int64(res.lead+res.ingest.accepted)*perPost
	stopProfile, err := startProfile(cfg.fleetProfile)
	if err != nil {
		return err
	}
	self1, conns1 := selfCPU(), fl.conns.Load()
	done = measureMachine()
	res.drainErr = drain(ctx, fl, want, cfg.drainLimit, stdout)
	res.drainMachine = done()
	res.fleetCPU = selfCPU() - self1
	res.drainConns = fl.conns.Load() - conns1
	if err := stopProfile(); err != nil {
		return err
	}
	cpu2, err := srv.CPU()
	if err != nil {
		return err
	}
	res.delivered = fl.announces.Load() - base
	last := time.Unix(0, fl.last.Load())
	res.deliveryWall, res.drainWall = last.Sub(t0), max(last.Sub(t1), 0)
	res.afterIngest = res.delivered - after
	res.drainCPU, res.totalCPU = cpu2-cpu1, cpu2-cpu0
	if res.peakRSS, err = srv.PeakRSS(); err != nil {
		return err
	}
	if err := srv.Stop(); err != nil {
		return err
	}
	for i, sign := range signers {
		if res.signing[i][1], cpu[i][1], err = signingRate(sign, sampleInbox, *sample, 3*time.Second); err != nil {
			return err
		}
		res.signCPU[i] = (cpu[i][0] + cpu[i][1]) / 2
	}
	reportFanout(stdout, cfg, fl, res, len(*sample))
	return nil
}

// drain waits until the fleet has want Announces, printing progress every
// 10 seconds; it gives up after limit, or after a minute without progress.
func drain(ctx context.Context, fl *fleet, want int64, limit time.Duration, stdout io.Writer) error {
	start, lastReport := time.Now(), time.Now()
	progress, progressAt := fl.announces.Load(), time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		n := fl.announces.Load()
		if n >= want {
			return nil
		}
		now := time.Now()
		if n != progress {
			progress, progressAt = n, now
		}
		switch {
		case now.Sub(start) > limit:
			return fmt.Errorf("gave up after %s: %d Announces still missing", limit, want-n)
		case now.Sub(progressAt) > time.Minute:
			return fmt.Errorf("no delivery for a minute: %d Announces still missing", want-n)
		case now.Sub(lastReport) >= 10*time.Second:
			fmt.Fprintf(stdout, "  … %d Announces to go\n", want-n)
			lastReport = now
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// signingRate measures how many HTTP-signature signings per second this
// machine does on all its CPUs, signing POSTs of body to inbox with sign
// (digest, signing string, RSA), and the CPU time one signature takes
// (this process's, which does nothing else meanwhile).
func signingRate(sign func(r *http.Request, body []byte) error, inbox string, body []byte, d time.Duration) (float64, time.Duration, error) {
	cpu0 := selfCPU()
	var n atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, runtime.NumCPU())
	deadline := time.Now().Add(d)
	t0 := time.Now()
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				r, err := http.NewRequest(http.MethodPost, inbox, bytes.NewReader(body))
				if err == nil {
					r.Header.Set("Content-Type", "application/activity+json")
					err = sign(r, body)
				}
				if err != nil {
					errs <- err
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := errors.Join(collect(errs)...); err != nil {
		return 0, 0, fmt.Errorf("signing rate: %w", err)
	}
	wall, cpu := time.Since(t0), selfCPU()-cpu0
	return float64(n.Load()) / wall.Seconds(), cpu / time.Duration(max(n.Load(), 1)), nil
}

// selfCPU is the user and system CPU time this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportFanout(w io.Writer, cfg fanoutConfig, fl *fleet, res fanoutResult, sampleLen int) {
	m, r := cfg.mix, res.ingest
	unknown := m.hosts - m.microblog - m.group
	fmt.Fprintf(w, "workload: %d signed Create{Note} (new threads) from %d authors on one host, %d connections, into a community with %d followers on %d hosts "+
		"(%d mastodon/gotosocial, %d lemmy, %d unknown software) that answer after %s, %s; measured while the deliveries of %d posts sent before them run\n",
		r.sent, cfg.authors, cfg.conns, (cfg.followers/m.hosts)*m.hosts, m.hosts, m.microblog, m.group, unknown, cfg.latency, processes(cfg.processes), res.lead)
	fmt.Fprintf(w, "signatures per post: %.0f (one Announce per host of known software, both shapes per unknown host; %d if every host got both)\n",
		res.perPost, 2*m.hosts)
	rate := float64(r.accepted) / r.wall.Seconds()
	fmt.Fprintf(w, "ingest:     %d of %d accepted in %s (statuses %v): %.0f posts/s\n", r.accepted, r.sent, r.wall.Round(time.Millisecond), r.statuses, rate)
	fmt.Fprintf(w, "latency:    p50 %s  p90 %s  p99 %s  max %s (target p99 ≤ 100ms)\n", percentile(r.latencies, 50).Round(100*time.Microsecond),
		percentile(r.latencies, 90).Round(100*time.Microsecond), percentile(r.latencies, 99).Round(100*time.Microsecond),
		percentile(r.latencies, 100).Round(100*time.Microsecond))
	fmt.Fprintf(w, "writes:     %s, while the posts came in (deliveries' claims included)\n", writes(r))
	fmt.Fprintf(w, "machine:    %s while the posts came in, %s after (the server's processes, PostgreSQL's when --db is one, the fake hosts and this client)\n",
		r.machine, res.drainMachine)
	deliveryRate := float64(res.delivered) / res.deliveryWall.Seconds()
	fmt.Fprintf(w, "deliveries: %d in %s from the first post to the last delivery: %.0f/s (%d while the measured posts came in: %.0f/s; %.0f/s after)\n",
		res.delivered, res.deliveryWall.Round(time.Millisecond), deliveryRate, res.duringIngest, float64(res.duringIngest)/max(r.wall.Seconds(), 1e-3),
		float64(res.afterIngest)/max(res.drainWall.Seconds(), 1e-3))
	if res.drainErr != nil {
		fmt.Fprintf(w, "            INCOMPLETE: %v\n", res.drainErr)
	}
	signing := (res.signing[0][0] + res.signing[0][1]) / 2
	goSigning := (res.signing[1][0] + res.signing[1][1]) / 2
	fmt.Fprintf(w, "signing:    %.0f HTTP signatures/s as the server signs (%.0f before the posts, %.0f after the deliveries; signature.Key: RSA-2048 by OpenSSL, the community's key, a %d-byte Announce, %d goroutines, this process); "+
		"%.0f/s with crypto/rsa (signature.Sign; %.0f before, %.0f after)\n",
		signing, res.signing[0][0], res.signing[0][1], sampleLen, runtime.NumCPU(), goSigning, res.signing[1][0], res.signing[1][1])
	fmt.Fprintf(w, "ratio:      deliveries/s = %.2f of the server's signing rate (target ≥ 0.70); %.2f of crypto/rsa's\n", deliveryRate/signing, deliveryRate/goSigning)
	if d := res.afterIngest; d > 0 {
		server := res.drainCPU / time.Duration(d)
		fleet := res.fleetCPU / time.Duration(d)
		fmt.Fprintf(w, "server CPU: %s per delivery once the posts were in (%s for %d); %s over the whole run, %s per post and its %.0f deliveries\n",
			server.Round(time.Microsecond), res.drainCPU.Round(time.Millisecond), d, res.totalCPU.Round(time.Millisecond),
			(res.totalCPU / time.Duration(max(res.lead+r.accepted, 1))).Round(time.Microsecond), res.perPost)
		fmt.Fprintf(w, "connections: the server opened %d to the hosts once the posts were in: one per %.0f deliveries\n",
			res.drainConns, float64(d)/float64(max(res.drainConns, 1)))
		fmt.Fprintf(w, "by CPU:     a signature takes %s (crypto/rsa: %s), a delivery %s in the server and %s in its fake host: "+
			"with every CPU busy, deliveries/s could reach %.2f of the server's signing rate with the fake hosts on these CPUs, %.2f with them elsewhere\n",
			res.signCPU[0].Round(time.Microsecond), res.signCPU[1].Round(time.Microsecond), server.Round(time.Microsecond), fleet.Round(time.Microsecond),
			float64(res.signCPU[0])/float64(server+fleet), float64(res.signCPU[0])/float64(server))
	}
	fmt.Fprintf(w, "peak RSS:   %d MB (VmHWM of the server, the largest of its processes; target < 150 MB)\n", res.peakRSS>>10)
	fl.mu.Lock()
	firstReject := fl.firstReject
	fl.mu.Unlock()
	sh := fl.shapes()
	fmt.Fprintf(w, "checks:     %d signatures verified, %d deliveries refused%s, %d Announces of a shape the host's software does not show; "+
		"Announce{object}/{activity}: microblog %d/%d, group %d/%d, unknown %d/%d\n",
		fl.verified.Load(), fl.rejected.Load(), orNone(firstReject), fl.wrongShape.Load(),
		sh["microblog"][0], sh["microblog"][1], sh["group"][0], sh["group"][1], sh[""][0], sh[""][1])
}

// startProfile starts a CPU profile of this process into path, if not
// empty; the function it returns stops it.
func startProfile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

func orNone(s string) string {
	if s == "" {
		return ""
	}
	return " (first: " + s + ")"
}
