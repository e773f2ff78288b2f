package delivery

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// benchFleet is a set of fake hosts on distinct loopback addresses sharing
// one tally of deliveries. Inbox k is "/i/k" on host k mod len(hosts). The
// hosts check that a Signature is present but skip RSA verification, which
// would double the CPU the benchmark measures.
type benchFleet struct {
	hosts   []*benchHost
	latency time.Duration
	inboxes int
	run     atomic.Pointer[benchRun] // the fan-out under way
}

// benchRun is the tally of one fan-out.
type benchRun struct {
	counts    []atomic.Int32 // requests per inbox
	delivered atomic.Int64   // inboxes that got their first request
	unsigned  atomic.Int64
	done      chan struct{} // closed when every inbox got its first request
}

type benchHost struct {
	f    *benchFleet
	url  string
	name string

	mu sync.Mutex
	// mu guards inFlight and maxInFlight.
	inFlight, maxInFlight int
}

func newBenchFleet(b *testing.B, hosts, inboxes int, latency time.Duration) *benchFleet {
	b.Helper()
	f := &benchFleet{latency: latency, inboxes: inboxes}
	f.reset()
	for i := range hosts {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.%d.%d:0", 1+i/250, 1+i%250))
		if err != nil {
			b.Fatalf("listen on a loopback address: %v", err)
		}
		h := &benchHost{f: f}
		srv := httptest.NewUnstartedServer(h)
		srv.Listener.Close()
		srv.Listener = ln
		srv.Start()
		b.Cleanup(srv.Close)
		h.url, h.name = srv.URL, ln.Addr().String()
		f.hosts = append(f.hosts, h)
	}
	return f
}

func (f *benchFleet) inbox(k int) string {
	return f.hosts[k%len(f.hosts)].url + "/i/" + strconv.Itoa(k)
}

// reset starts a new fan-out to every inbox.
func (f *benchFleet) reset() {
	f.run.Store(&benchRun{counts: make([]atomic.Int32, f.inboxes), done: make(chan struct{})})
	for _, h := range f.hosts {
		h.mu.Lock()
		h.maxInFlight = 0
		h.mu.Unlock()
	}
}

func (h *benchHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.inFlight++
	h.maxInFlight = max(h.maxInFlight, h.inFlight)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.inFlight--
		h.mu.Unlock()
	}()
	if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 1<<20)); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	run := h.f.run.Load()
	if r.Header.Get("Signature") == "" || r.Header.Get("Digest") == "" {
		run.unsigned.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	k, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/i/"))
	if err != nil || k < 0 || k >= len(run.counts) {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if h.f.latency > 0 {
		// Server latency, not test synchronisation.
		t := time.NewTimer(h.f.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if run.counts[k].Add(1) == 1 && run.delivered.Add(1) == int64(len(run.counts)) {
		close(run.done)
	}
	w.WriteHeader(http.StatusAccepted)
}

// check fails b unless every inbox got exactly one request and no host had
// more than perHost at once.
func (f *benchFleet) check(b *testing.B, perHost int) {
	b.Helper()
	run := f.run.Load()
	for k := range run.counts {
		if n := run.counts[k].Load(); n != 1 {
			b.Errorf("inbox %d got %d requests, want 1", k, n)
			break
		}
	}
	for _, h := range f.hosts {
		h.mu.Lock()
		m := h.maxInFlight
		h.mu.Unlock()
		if m > perHost {
			b.Errorf("host %s had %d requests at once, want at most %d", h.name, m, perHost)
		}
	}
	if n := run.unsigned.Load(); n > 0 {
		b.Errorf("%d requests came without a signature", n)
	}
}

// benchClient is an outgoing client like the one cmd builds, with enough
// idle connections per host for PerHost requests.
func benchClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 4096, MaxIdleConnsPerHost: DefaultPerHost, IdleConnTimeout: time.Minute,
	}}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fanOut runs a worker until the fleet has every delivery.
func fanOut(b *testing.B, fx *fixture, f *benchFleet, client *http.Client) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := New(Options{Store: fx.st, Client: client, UserAgent: "coppice-bench",
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	deadline := time.NewTimer(10 * time.Minute)
	defer deadline.Stop()
	run := f.run.Load()
	select {
	case <-run.done:
	case <-deadline.C:
		b.Errorf("fan-out incomplete after 10 minutes: %d of %d delivered", run.delivered.Load(), len(run.counts))
	}
	cancel()
	if err := <-done; err != nil {
		b.Errorf("Run = %v", err)
	}
}

// BenchmarkFanOut10k sends one Announce to 10,000 shared inboxes on 80
// hosts that each take 50ms to answer.
func BenchmarkFanOut10k(b *testing.B) {
	const inboxes, hosts = 10_000, 80
	fx := newFixture(b)
	f := newBenchFleet(b, hosts, inboxes, 50*time.Millisecond)
	client := benchClient()
	var wall, cpu time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		id := fx.activity(b, fmt.Sprintf("https://coppice.example/a/%d", i))
		all := make([]string, inboxes)
		for k := range all {
			all[k] = f.inbox(k)
		}
		fx.enqueue(b, id, time.Now(), all...)
		f.reset()
		c0, t0 := cpuTime(b), time.Now()
		b.StartTimer()

		fanOut(b, fx, f, client)

		b.StopTimer()
		wall += time.Since(t0)
		cpu += cpuTime(b) - c0
		f.check(b, DefaultPerHost)
		if queued, failed := fx.queue(b); queued != 0 || failed != 0 {
			b.Errorf("queue after fan-out = %d queued, %d failed; want empty", queued, failed)
		}
	}
	n := float64(b.N * inboxes)
	b.ReportMetric(n/wall.Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/delivery")
	b.ReportMetric(wall.Seconds()/float64(b.N), "s/fanout")
}

// BenchmarkFanOutMemory100k sends one Announce to 100,000 followers, each
// with its own inbox, on 100 hosts, and reports the peak resident memory of
// the process (workers, fake hosts and SQLite together).
func BenchmarkFanOutMemory100k(b *testing.B) {
	const followers, hosts = 100_000, 100
	fx := newFixture(b)
	f := newBenchFleet(b, hosts, followers, 0)
	ctx := context.Background()

	t0 := time.Now()
	for k := range followers {
		inbox := f.inbox(k)
		host := storage.HostOf(inbox)
		err := fx.st.UpsertActor(ctx, storage.Actor{IRI: "http://" + host + "/u/" + strconv.Itoa(k), Type: "Person", Host: host,
			Inbox: inbox, Raw: []byte("{}"), FetchedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
	}
	actorsTook := time.Since(t0)
	t0 = time.Now()
	err := fx.st.InTx(ctx, func(tx *storage.Tx) error {
		for k := range followers {
			iri := "http://" + storage.HostOf(f.inbox(k)) + "/u/" + strconv.Itoa(k)
			if _, err := tx.UpsertFollow(ctx, storage.Follow{CommunityID: fx.community.ID, ActorIRI: iri,
				FollowIRI: iri + "#follow", State: storage.FollowAccepted, CreatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("setup: %d UpsertActor calls took %v; %d UpsertFollow in one transaction took %v",
		followers, actorsTook.Round(time.Millisecond), followers, time.Since(t0).Round(time.Millisecond))

	client := benchClient()
	var wall, cpu time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		id := fx.activity(b, fmt.Sprintf("https://coppice.example/a/%d", i))
		t1 := time.Now()
		err := fx.st.InTx(ctx, func(tx *storage.Tx) error {
			n, err := tx.EnqueueFollowers(ctx, id, fx.community.ID, nil, time.Now())
			if err == nil && n != followers {
				err = fmt.Errorf("EnqueueFollowers queued %d, want %d", n, followers)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("EnqueueFollowers of %d took %v; RSS before the fan-out %d MB", followers, time.Since(t1).Round(time.Millisecond), procStatus(b, "VmRSS")>>10)
		f.reset()
		c0, t0 := cpuTime(b), time.Now()
		b.StartTimer()

		fanOut(b, fx, f, client)

		b.StopTimer()
		wall += time.Since(t0)
		cpu += cpuTime(b) - c0
		f.check(b, DefaultPerHost)
		if queued, failed := fx.queue(b); queued != 0 || failed != 0 {
			b.Errorf("queue after fan-out = %d queued, %d failed; want empty", queued, failed)
		}
	}
	n := float64(b.N * followers)
	peak := procStatus(b, "VmHWM")
	b.ReportMetric(n/wall.Seconds(), "deliveries/s")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/delivery")
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
	if peak > 150<<10 {
		b.Errorf("peak RSS %d MB, want under 150 MB", peak>>10)
	}
}

// procStatus reads a kB field of /proc/self/status.
func procStatus(b *testing.B, field string) int64 {
	b.Helper()
	file, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if ok && name == field {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			if err != nil {
				b.Fatalf("parse %s: %v", field, err)
			}
			return kb
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}
