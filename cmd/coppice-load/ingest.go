package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// ingestConfig is the workload of `coppice-load ingest`.
type ingestConfig struct {
	db         string
	binary     string
	community  string
	posts      int
	authors    int
	conns      int
	processes  int
	warmup     int
	shape      string
	cpuProfile string
	serverLog  string
}

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg ingestConfig
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.db, "db", "load.db", "SQLite file the server runs on (created when missing)")
	fs.StringVar(&cfg.binary, "coppice", "bin/coppice", "the coppice binary to start")
	fs.StringVar(&cfg.community, "community", "loadtest", "community the posts go to (created with posting 'anyone' when missing)")
	fs.IntVar(&cfg.posts, "posts", 3000, "posts to send, after one warm-up post per author")
	fs.IntVar(&cfg.warmup, "warmup", 0, "posts sent with --conns connections before the measured ones, not measured")
	fs.IntVar(&cfg.authors, "authors", 20, "authors, all on one remote host")
	fs.StringVar(&cfg.shape, "shape", "plain", "what the posts look like: plain (a short Create{Note}) or mastodon (as Mastodon 4 sends one: its context, hashtags, contentMap, replies, an LD signature)")
	fs.IntVar(&cfg.conns, "conns", 64, "concurrent connections")
	fs.IntVar(&cfg.processes, "processes", 1, "coppice serve processes on the database (more than one needs a postgres:// --db)")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "have the server write a CPU profile of the run to this file")
	fs.StringVar(&cfg.serverLog, "server-log", "", "append the server's log to this file (default: discarded)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.posts < 1 || cfg.authors < 1 || cfg.conns < 1 || cfg.processes < 1 || cfg.warmup < 0 {
		return errors.New("ingest: --posts, --authors, --conns and --processes must be ≥ 1")
	}
	if cfg.shape != "plain" && cfg.shape != "mastodon" {
		return errors.New("ingest: --shape is plain or mastodon")
	}
	return ingest(ctx, cfg, stdout)
}

// result is what one measured run gives.
type result struct {
	sent, accepted int
	wall           time.Duration
	latencies      []time.Duration // of accepted posts, sorted
	serverCPU      time.Duration
	statuses       map[int]int
	machine        machineShare // while the posts were sent
	// writes: the write transactions while the posts were sent.
	writes  writeStats
	peakRSS int64 // kB, the largest VmHWM of the server's processes
	// io: what the server's processes wrote and read while the posts
	// were sent.
	io ioCounts
}

func ingest(ctx context.Context, cfg ingestConfig, stdout io.Writer) error {
	posts, err := prepareCommunity(ctx, cfg.db, cfg.community)
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
	fmt.Fprintf(stdout, "%s on %s, which holds %d posts; %d CPUs\n", srv.Describe(), storage.Redacted(cfg.db), posts, runtime.NumCPU())

	l := &load{remote: remote, inbox: srv.URL + "/inbox", community: srv.URL + "/c/" + cfg.community, run: time.Now().UnixNano(), route: srv.route, mastodon: cfg.shape == "mastodon"}
	warm, err := l.sign(0, cfg.authors)
	if err != nil {
		return err
	}
	// One at a time: the server fetches each author's key on its first
	// post, and limits concurrent key fetches per host.
	if r := send(client, warm, 1); r.accepted != len(warm) {
		return fmt.Errorf("warm-up: %d of %d posts accepted (statuses %v)", r.accepted, len(warm), r.statuses)
	}
	if cfg.warmup > 0 {
		more, err := l.sign(cfg.authors, cfg.warmup)
		if err != nil {
			return err
		}
		if r := send(client, more, cfg.conns); r.accepted != len(more) {
			return fmt.Errorf("warm-up: %d of %d posts accepted (statuses %v)", r.accepted, len(more), r.statuses)
		}
		fmt.Fprintf(stdout, "warm-up: %d posts with %d connections, not measured\n", len(more), cfg.conns)
	}
	t0 := time.Now()
	reqs, err := l.sign(cfg.authors+cfg.warmup, cfg.posts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "signed %d Create{Note} from %d authors in %s\n", len(reqs), cfg.authors, time.Since(t0).Round(time.Millisecond))

	cpu0, err := srv.CPU()
	if err != nil {
		return err
	}
	io0, err := srv.IO()
	if err != nil {
		return err
	}
	w0, err := srv.writes(client)
	if err != nil {
		return err
	}
	done := measureMachine()
	r := send(client, reqs, cfg.conns)
	r.machine = done()
	w1, err := srv.writes(client)
	if err != nil {
		return err
	}
	r.writes = w1.sub(w0)
	cpu1, err := srv.CPU()
	if err != nil {
		return err
	}
	r.serverCPU = cpu1 - cpu0
	io1, err := srv.IO()
	if err != nil {
		return err
	}
	r.io = io1.sub(io0)
	if r.peakRSS, err = srv.PeakRSS(); err != nil {
		return err
	}
	floor, err := pipelineFloor(ctx, reqs, srv.URL, remote, cfg.conns)
	if err != nil {
		return err
	}
	if err := srv.Stop(); err != nil {
		return err
	}
	report(stdout, cfg, r, floor)
	return nil
}

// prepareCommunity creates the target community when missing, with posting
// policy anyone, and counts the posts the database holds.
func prepareCommunity(ctx context.Context, db, name string) (int, error) {
	st, err := storage.Open(ctx, db)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	svc := community.New(st, time.Now, nil, community.Options{})
	c, err := svc.Community(ctx, name)
	if errors.Is(err, community.ErrNotFound) {
		c, err = svc.CreateCommunity(ctx, community.NewCommunity{Name: name, Title: "Load test", Summary: "Posts sent by coppice-load"})
	}
	if err != nil {
		return 0, err
	}
	if c.PostingPolicy != community.PostAnyone {
		if _, err := svc.UpdateSettings(ctx, name, community.Settings{PostingPolicy: community.PostAnyone, BoostReplies: true}); err != nil {
			return 0, err
		}
	}
	return st.CountPosts(ctx)
}

// load builds the signed requests of one run.
type load struct {
	remote    *remoteHost
	inbox     string
	community string
	run       int64
	// route gives the address post i is sent to and the Host header it
	// carries; the posts are signed for inbox whatever the route.
	route func(i int, path string) (target, host string)
	// mastodon: the posts look like Mastodon's (mastodonPost).
	mastodon bool
}

// sign builds and signs n Create{Note} posts numbered from first, authors
// in turn, on every CPU.
func (l *load) sign(first, n int) ([]signedPost, error) {
	out := make([]signedPost, n)
	errs := make(chan error, runtime.NumCPU())
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += runtime.NumCPU() {
				p, err := l.post(first + i)
				if err != nil {
					errs <- err
					return
				}
				out[i] = p
			}
		}()
	}
	wg.Wait()
	close(errs)
	return out, <-errs
}

// signedPost is a request ready to send: its body and signed headers.
type signedPost struct {
	url    string
	host   string // the Host header when url is not the base URL
	body   []byte
	header http.Header
}

func (l *load) post(i int) (signedPost, error) {
	name := l.remote.authors[i%len(l.remote.authors)]
	actor := l.remote.actorIRI(name)
	note := fmt.Sprintf("%s/statuses/%x-%d", actor, l.run, i)
	now := time.Now().UTC().Format(time.RFC3339)
	if l.mastodon {
		return l.signed(i, name, mastodonPost(actor, note, now, l.community, i))
	}
	body := fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":"%[1]s/activity","type":"Create","actor":"%[2]s","published":"%[3]s",`+
		`"to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["%[4]s"],`+
		`"object":{"id":"%[1]s","type":"Note","attributedTo":"%[2]s","published":"%[3]s","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["%[4]s"],`+
		`"content":"<p><span class=\"h-card\"><a href=\"%[4]s\" class=\"u-url mention\">@<span>loadtest</span></a></span> Post %[5]d of the load run: notes on grafting, rootstock and scion timing.</p>",`+
		`"tag":[{"type":"Mention","href":"%[4]s","name":"@loadtest"}]}}`, note, actor, now, l.community, i)
	return l.signed(i, name, body)
}

// signed signs body as post i of author name.
func (l *load) signed(i int, name, body string) (signedPost, error) {
	r, err := http.NewRequest(http.MethodPost, l.inbox, nil)
	if err != nil {
		return signedPost{}, fmt.Errorf("post %d: %w", i, err)
	}
	r.Header.Set("Content-Type", `application/activity+json`)
	if err := signature.Sign(r, []byte(body), l.remote.keyID(name), l.remote.key, time.Now()); err != nil {
		return signedPost{}, fmt.Errorf("sign post %d: %w", i, err)
	}
	p := signedPost{url: l.inbox, body: []byte(body), header: r.Header}
	if l.route != nil {
		p.url, p.host = l.route(i, "/inbox")
	}
	return p, nil
}

// send posts every request over conns connections and measures them.
func send(client *http.Client, posts []signedPost, conns int) result {
	r := result{sent: len(posts), statuses: map[int]int{}}
	lat := make([]time.Duration, len(posts))
	status := make([]int, len(posts))
	work := make(chan int)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				start := time.Now()
				status[i] = do(client, posts[i])
				lat[i] = time.Since(start)
			}
		}()
	}
	for i := range posts {
		work <- i
	}
	close(work)
	wg.Wait()
	r.wall = time.Since(t0)
	for i, s := range status {
		r.statuses[s]++
		if s == http.StatusAccepted {
			r.accepted++
			r.latencies = append(r.latencies, lat[i])
		}
	}
	slices.Sort(r.latencies)
	return r
}

// do sends one post and returns the status (0 for a transport error).
func do(client *http.Client, p signedPost) int {
	req, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(p.body))
	if err != nil {
		return 0
	}
	req.Header = p.header.Clone()
	if p.host != "" {
		req.Host = p.host
	}
	res, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// writes describes the write transactions of a run.
func writes(r result) string {
	w := r.writes
	return fmt.Sprintf("%.0f write transactions (%.1f accepted posts each) open %.0f%% of the time (summed over processes; %.0f open over 32 ms), %.0f of them run again because PostgreSQL could not serialize them with another process's",
		w.count, float64(r.accepted)/max(w.count, 1), 100*w.seconds/max(r.wall.Seconds(), 1e-9), w.slow, w.retries)
}

// processes describes how many server processes took the load.
func processes(n int) string {
	if n == 1 {
		return "one server process"
	}
	return fmt.Sprintf("%d server processes on one database, the posts sent to each in turn", n)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func report(w io.Writer, cfg ingestConfig, r result, floor floorResult) {
	rate := float64(r.accepted) / r.wall.Seconds()
	fmt.Fprintf(w, "workload: %d signed Create{Note} (new threads) from %d authors on one host, %d connections, one community with posting 'anyone' and no followers, %s\n",
		r.sent, cfg.authors, cfg.conns, processes(cfg.processes))
	fmt.Fprintf(w, "accepted: %d of %d in %s (statuses %v)\n", r.accepted, r.sent, r.wall.Round(time.Millisecond), r.statuses)
	fmt.Fprintf(w, "rate:     %.0f accepted posts/s\n", rate)
	fmt.Fprintf(w, "latency:  p50 %s  p90 %s  p99 %s  max %s\n", percentile(r.latencies, 50).Round(100*time.Microsecond),
		percentile(r.latencies, 90).Round(100*time.Microsecond), percentile(r.latencies, 99).Round(100*time.Microsecond),
		percentile(r.latencies, 100).Round(100*time.Microsecond))
	if r.accepted > 0 {
		fmt.Fprintf(w, "server:   %.2f ms CPU per accepted post (%s in all, /proc/PID/stat)\n",
			float64(r.serverCPU.Microseconds())/1000/float64(r.accepted), r.serverCPU)
	}
	fmt.Fprintf(w, "writes:   %s\n", writes(r))
	if r.accepted > 0 {
		fmt.Fprintf(w, "i/o:      %s\n", r.io.perOp(r.accepted, "accepted post"))
	}
	fmt.Fprintf(w, "memory:   peak RSS %d MB (VmHWM of the server, the largest of its processes; target < 150 MB)\n", r.peakRSS>>10)
	fmt.Fprintf(w, "machine:  %s while the posts were sent (the server's processes, PostgreSQL's when --db is one, and this client)\n", r.machine)
	fmt.Fprintf(w, "floor:    %.0f posts/s (verify + digest + JSON decode on %d goroutines + one row per commit, this process)\n", floor.rate, cfg.conns)
	if floor.rate > 0 {
		fmt.Fprintf(w, "ratio:    %.2f of the floor\n", rate/floor.rate)
	}
}
