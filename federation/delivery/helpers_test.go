package delivery

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fetch"
	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// journal is an append-only list that tests wait on.
type journal[T any] struct {
	mu sync.Mutex
	// mu guards items and changed.
	items   []T
	changed chan struct{} // closed and replaced on every add
}

func newJournal[T any]() *journal[T] {
	return &journal[T]{changed: make(chan struct{})}
}

func (j *journal[T]) add(v T) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.items = append(j.items, v)
	close(j.changed)
	j.changed = make(chan struct{})
}

func (j *journal[T]) all() []T {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.items)
}

// wait returns the items once ok accepts them, and fails the test when that
// does not happen within timeout.
func (j *journal[T]) wait(t testing.TB, what string, timeout time.Duration, ok func([]T) bool) []T {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		j.mu.Lock()
		items, changed := slices.Clone(j.items), j.changed
		j.mu.Unlock()
		if ok(items) {
			return items
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("waited %v for %s; have %d entries", timeout, what, len(items))
		}
	}
}

// logEntry is one record the worker logged.
type logEntry struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// logRecorder is a slog handler that keeps the worker's records, and fails
// the test on an Error record: an Error is our own failure.
type logRecorder struct {
	t     testing.TB
	j     *journal[logEntry]
	attrs []slog.Attr
}

func newLogRecorder(t testing.TB) *logRecorder {
	return &logRecorder{t: t, j: newJournal[logEntry]()}
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	e := logEntry{level: r.Level, msg: r.Message, attrs: make(map[string]string)}
	for _, a := range h.attrs {
		e.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		e.attrs[a.Key] = a.Value.String()
		return true
	})
	if r.Level >= slog.LevelError {
		h.t.Errorf("worker logged error %q %v", r.Message, e.attrs)
	}
	h.j.add(e)
	return nil
}

func (h *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(slices.Clone(h.attrs), as...)
	return &c
}

func (h *logRecorder) WithGroup(string) slog.Handler { return h }

// attempts returns the "delivery attempt" records for inbox.
func attemptsTo(entries []logEntry, inbox string) []logEntry {
	var out []logEntry
	for _, e := range entries {
		if e.msg == "delivery attempt" && e.attrs["inbox"] == inbox {
			out = append(out, e)
		}
	}
	return out
}

// fixture is one test's database, community and log.
type fixture struct {
	st        *storage.Store
	community storage.Community
	pub       crypto.PublicKey
	keyID     string
	logs      *logRecorder
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	st := storagetest.Open(t)
	return newFixtureOn(t, st, storagetest.Community(t, st, "seeds"))
}

// newFixtureOn is newFixture on a store and community the test made.
func newFixtureOn(t testing.TB, st *storage.Store, c storage.Community) *fixture {
	t.Helper()
	_, pubPEM := storagetest.KeyPair(t)
	pub, err := keypair.ParsePublic(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, community: c, pub: pub, keyID: "https://coppice.example/c/seeds#main-key", logs: newLogRecorder(t)}
}

// activity stores an Announce with the given id and returns its row ID.
func (fx *fixture) activity(t testing.TB, iri string) int64 {
	t.Helper()
	var id int64
	err := fx.st.InTx(context.Background(), func(tx *storage.Tx) error {
		var err error
		id, err = tx.CreateOutboxActivity(context.Background(), storage.OutboxActivity{
			IRI: iri, CommunityID: fx.community.ID, Type: "Announce", KeyID: fx.keyID,
			Body:      []byte(fmt.Sprintf(`{"@context":"https://www.w3.org/ns/activitystreams","id":%q,"type":"Announce"}`, iri)),
			CreatedAt: time.Now(),
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// enqueue queues activityID for each inbox as of queuedAt.
func (fx *fixture) enqueue(t testing.TB, activityID int64, queuedAt time.Time, inboxes ...string) {
	t.Helper()
	err := fx.st.InTx(context.Background(), func(tx *storage.Tx) error {
		for _, inbox := range inboxes {
			if err := tx.EnqueueDelivery(context.Background(), activityID, inbox, queuedAt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (fx *fixture) queue(t testing.TB) (queued, failed int) {
	t.Helper()
	queued, failed, err := fx.st.QueueStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return queued, failed
}

func (fx *fixture) host(t testing.TB, name string) storage.Host {
	t.Helper()
	h, err := fx.st.HostByName(context.Background(), name)
	if err != nil {
		t.Fatalf("HostByName(%q) = %v", name, err)
	}
	return h
}

// running is a worker started by a test.
type running struct {
	w      *Worker
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start runs a worker with opt, filling in the fixture's store, a
// fetch.Poster allowed to reach loopback (as the instance's, but for that)
// and the recording logger. It is stopped when the test ends.
func (fx *fixture) start(t testing.TB, opt Options) *running {
	t.Helper()
	opt.Store = fx.st
	if opt.Client == nil {
		p := fetch.NewPoster(fetch.Options{AllowPrivate: true, Timeout: 10 * time.Second})
		t.Cleanup(p.CloseIdleConnections)
		opt.Client = p
	}
	if opt.Log == nil {
		opt.Log = slog.New(fx.logs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{w: New(opt), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- r.w.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the worker and waits for Run to return.
func (r *running) stop(t testing.TB) error {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.err = <-r.done:
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return within 20s of cancel")
		}
	})
	return r.err
}

// request is one POST a fake host received.
type request struct {
	path   string
	at     time.Time
	body   []byte
	header http.Header
	status int
}

// fakeHost is a remote instance's inbox: it checks our signature on every
// POST, fails the test on a bad one, records what it got, and answers as
// its test tells it.
type fakeHost struct {
	t     testing.TB
	srv   *httptest.Server
	name  string // host:port, as storage.HostOf spells it
	pub   crypto.PublicKey
	keyID string
	now   func() time.Time

	// answer picks the reply to the n-th request (from 1) to a path;
	// nil answers 202.
	answer func(r request, n int) (int, http.Header)
	// hold, when set, keeps every request waiting until it is closed or
	// the client gives up.
	hold chan struct{}
	// delay is how long the host takes to answer.
	delay time.Duration

	got *journal[request]

	mu sync.Mutex
	// mu guards counts, inFlight and maxInFlight.
	counts      map[string]int
	inFlight    int
	maxInFlight int
}

// newFakeHost serves on ln, or on a new loopback port when ln is nil.
// configure runs before the server starts.
func (fx *fixture) newFakeHost(t testing.TB, ln net.Listener, configure func(h *fakeHost)) *fakeHost {
	t.Helper()
	h := &fakeHost{t: t, pub: fx.pub, keyID: fx.keyID, now: time.Now, got: newJournal[request](), counts: make(map[string]int)}
	if configure != nil {
		configure(h)
	}
	h.srv = httptest.NewUnstartedServer(h)
	if ln != nil {
		h.srv.Listener.Close()
		h.srv.Listener = ln
	}
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	h.name = h.srv.Listener.Addr().String()
	return h
}

func (h *fakeHost) inbox(path string) string { return h.srv.URL + path }

func (h *fakeHost) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.inFlight++
	h.maxInFlight = max(h.maxInFlight, h.inFlight)
	h.counts[r.URL.Path]++
	n := h.counts[r.URL.Path]
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.inFlight--
		h.mu.Unlock()
	}()
	at := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		h.t.Errorf("%s%s: read body: %v", h.name, r.URL.Path, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if err := h.verify(r, body); err != nil {
		h.t.Errorf("%s%s: %v", h.name, r.URL.Path, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if h.hold != nil {
		select {
		case <-h.hold:
		case <-r.Context().Done():
			return
		}
	}
	if h.delay > 0 {
		// Server latency, not test synchronisation.
		t := time.NewTimer(h.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	req := request{path: r.URL.Path, at: at, body: body, header: r.Header.Clone(), status: http.StatusAccepted}
	var header http.Header
	if h.answer != nil {
		req.status, header = h.answer(req, n)
	}
	h.got.add(req)
	for k, v := range header {
		w.Header()[k] = v
	}
	w.WriteHeader(req.status)
}

// verify checks a delivery the way a Mastodon inbox would.
func (h *fakeHost) verify(r *http.Request, body []byte) error {
	if r.Method != http.MethodPost {
		return fmt.Errorf("method %s, want POST", r.Method)
	}
	for _, name := range []string{"Content-Type", "Accept"} {
		if got := r.Header.Get(name); got != "application/activity+json" {
			return fmt.Errorf("%s = %q, want application/activity+json", name, got)
		}
	}
	signed, err := signature.Parse(r, body, signature.Options{Now: h.now})
	if err != nil {
		return fmt.Errorf("parse signature: %w", err)
	}
	if signed.KeyID() != h.keyID {
		return fmt.Errorf("keyId %q, want %q", signed.KeyID(), h.keyID)
	}
	if err := signed.Verify(h.pub); err != nil {
		return fmt.Errorf("verify signature: %w", err)
	}
	return nil
}

// count returns how many requests reached path.
func (h *fakeHost) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts[path]
}

func (h *fakeHost) maxConcurrent() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.maxInFlight
}

// atLeast accepts a journal holding n items or more.
func atLeast[T any](n int) func([]T) bool {
	return func(items []T) bool { return len(items) >= n }
}

// tinySchedule makes retries come quickly in tests.
func tinySchedule(steps ...time.Duration) []time.Duration {
	if len(steps) == 0 {
		return []time.Duration{10 * time.Millisecond}
	}
	return steps
}
