package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coppice-dev/coppice/federation/signature"
	"github.com/coppice-dev/coppice/internal/keypair"
	"github.com/coppice-dev/coppice/storage"
)

// Defaults for Options.
//
// DefaultPerHost: a host's requests in flight are its connections. At 16,
// a fan-out to 100 hosts wanted up to 1,600 kept connections, more than
// the client keeps (1,024, fetch.Poster), and dialed a new one for one
// delivery in four (over TLS, a handshake each); at 8 it dials one per
// ~330, takes 9% less CPU per delivery, and a host still gets 160
// deliveries/s at 50 ms an answer (issue 13).
const (
	DefaultPerHost = 8
	DefaultWorkers = 256
	DefaultBatch   = 512
	DefaultLease   = 40 * time.Second
	DefaultPoll    = 500 * time.Millisecond
	// DefaultPollNotified is the poll of a worker whose store announces
	// new deliveries (PostgreSQL's LISTEN/NOTIFY): polling then only finds
	// retries that fell due in a process that died meanwhile.
	DefaultPollNotified = 5 * time.Second
	DefaultTimeout      = 30 * time.Second
	// DefaultSlowAfter is how long an attempt may wait for an answer in
	// the main lane before it moves to the slow lane (FLT-17).
	DefaultSlowAfter = 2 * time.Second
	// DefaultSlowTimeout bounds the attempts in the slow lane.
	DefaultSlowTimeout = 10 * time.Second
	DefaultGiveUp      = 8 * 24 * time.Hour
	DefaultDrain       = 10 * time.Second
	// SampleEvery is how often Run records the queue depth for the
	// console's chart.
	SampleEvery = time.Minute
)

// Host health thresholds (SECURITY.md FLT-06, after Mastodon's
// DeliveryFailureTracker): a host failing for HostGiveUp with at least
// HostMaxFail failures in a row is marked unreachable.
const (
	HostGiveUp  = 7 * 24 * time.Hour
	HostMaxFail = 10
)

// Limits of the batched outcome writer and of the caches.
const (
	flushEvery     = 50 * time.Millisecond
	flushSize      = 256
	activityCached = 64 // activities whose bodies are kept in memory
	// activityTTL is how long a loaded activity is used: an activity
	// withdrawn since (its post deleted) is not sent after that.
	activityTTL = 5 * time.Second
	keysCached  = 1024
	keyTTL      = 10 * time.Minute // a rotated key is used within this
	maxAnswer   = 64 << 10         // bytes of an answer read before closing it
)

// Options configures a Worker. Zero values take the defaults.
type Options struct {
	// Store holds the queue. Required.
	Store *storage.Store
	// Client sends every request, with the instance's SSRF guard and
	// federation policy: a *fetch.Poster, or an *http.Client of which the
	// worker uses a copy that follows no redirects and has no Timeout of
	// its own. Required.
	Client Client
	// Log receives the worker's logs. Nil discards them.
	Log *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// PerHost is the most requests in flight to one host; default 8.
	PerHost int
	// Workers is the most requests in flight in the main lane; default
	// 256.
	Workers int
	// SlowWorkers is the most requests in flight in the slow lane, which
	// takes the hosts that do not answer in time (FLT-17); default
	// Workers. At most Workers+SlowWorkers requests are in flight.
	SlowWorkers int
	// SlowAfter is how long an attempt in the main lane waits for an
	// answer before it moves to the slow lane, or is cut off when that is
	// full; default 2s. It must be below SlowTimeout.
	SlowAfter time.Duration
	// SlowTimeout bounds each attempt in the slow lane, and each attempt
	// moved there, from its start; default 10s, at most Timeout.
	SlowTimeout time.Duration
	// Batch is the most rows claimed at once; default 512.
	Batch int
	// Lease is how long a claimed row is kept from other claims; default
	// 40 seconds. Run renews its leases every quarter of it, so a row waits
	// for a free slot or its answer as long as it must, and the rows of a
	// process that died fall due for the others within Lease (and a poll).
	Lease time.Duration
	// Poll is how often the worker looks for rows committed by other
	// processes; default 500ms. It must be below one second, so that a CLI
	// command's deliveries go out at once while serve runs. When the store
	// announces new deliveries (Store.Notifies: PostgreSQL), the worker
	// listens for them instead, and Poll defaults to DefaultPollNotified
	// and may be up to 10 seconds.
	Poll time.Duration
	// Timeout bounds each attempt; default 30s.
	Timeout time.Duration
	// Schedule is the retry delay by number of attempts made (the first
	// entry follows the first attempt; the last repeats); default
	// DefaultSchedule.
	Schedule []time.Duration
	// GiveUp is how long after being queued a delivery is abandoned;
	// default 8 days. It must be at least 7 days, the time a host is given
	// before it is marked unreachable.
	GiveUp time.Duration
	// UserAgent is sent with every request.
	UserAgent string
	// Drain is how long requests in flight may still run once Run's
	// context ends; then they are cancelled and retried at the next start.
	// Default 10s.
	Drain time.Duration
	// Yield, when set, holds signatures back while the inbox has requests
	// in flight (see Yield).
	Yield *Yield
}

// Client sends a request and returns its answer, whose Body the caller
// closes: *fetch.Poster and *http.Client.
type Client interface {
	Do(*http.Request) (*http.Response, error)
}

// Worker claims queued deliveries, sends them and records the outcomes.
// Make one with New and start it with Run.
type Worker struct {
	store       *storage.Store
	client      Client
	log         *slog.Logger
	now         func() time.Time
	perHost     int
	workers     int
	batch       int
	lease       time.Duration
	poll        time.Duration
	timeout     time.Duration
	slowAfter   time.Duration
	slowTimeout time.Duration
	schedule    []time.Duration
	giveUp      time.Duration
	userAgent   string
	drain       time.Duration

	wake  chan struct{} // Wake: rows were committed in this process
	kick  chan struct{} // the writer unclaimed rows: claim again
	freed chan struct{} // an attempt ended: a slot is free
	slots chan struct{} // the main lane: one token per request, at most Workers
	slow  chan struct{} // the slow lane: at most SlowWorkers
	hosts *hostLimits
	// signing holds a token per signature being made, at most
	// signersPerCPU×GOMAXPROCS.
	signing chan struct{}
	yield   *Yield

	activities *cache[int64, storage.OutboxActivity]
	keys       *cache[int64, *signature.Key]
	fanOuts    *fanOutBook

	soonestMu sync.Mutex
	// soonestMu guards soonest: the earliest retry written since it was last
	// consumed, so a short retry delay does not wait for the next poll.
	soonest time.Time

	delivered, dropped, retried, failed, unauthorized, inFlight atomic.Int64

	running   atomic.Bool  // Run is delivering
	heartbeat atomic.Int64 // Unix ms of the claim loop's last turn
}

// New returns a worker. It panics when Store or Client is nil or when Poll,
// Lease, SlowAfter or GiveUp is out of range: those are programming errors found at
// start-up.
func New(opt Options) *Worker {
	if opt.Store == nil || opt.Client == nil {
		panic("delivery.New: Store and Client are required")
	}
	w := &Worker{
		store: opt.Store, log: opt.Log, now: opt.Now,
		perHost: orDefault(opt.PerHost, DefaultPerHost), workers: orDefault(opt.Workers, DefaultWorkers),
		batch: orDefault(opt.Batch, DefaultBatch), lease: orDefault(opt.Lease, DefaultLease),
		poll: orDefault(opt.Poll, pollDefault(opt.Store)), timeout: orDefault(opt.Timeout, DefaultTimeout),
		schedule: opt.Schedule, giveUp: orDefault(opt.GiveUp, DefaultGiveUp), userAgent: opt.UserAgent,
		drain: orDefault(opt.Drain, DefaultDrain), yield: opt.Yield,
	}
	// The slow lane's bounds follow a short Timeout down (tests).
	w.slowTimeout = min(orDefault(opt.SlowTimeout, DefaultSlowTimeout), w.timeout)
	w.slowAfter = orDefault(opt.SlowAfter, min(DefaultSlowAfter, w.slowTimeout/2))
	slowWorkers := orDefault(opt.SlowWorkers, w.workers)
	if maxPoll := pollMax(opt.Store); w.poll >= maxPoll {
		panic(fmt.Sprintf("delivery.New: Poll %v must be below %v", w.poll, maxPoll))
	}
	if w.lease < 4*time.Second {
		panic(fmt.Sprintf("delivery.New: Lease %v must be at least 4s: it is renewed every quarter of it", w.lease))
	}
	if w.slowAfter >= w.slowTimeout {
		panic(fmt.Sprintf("delivery.New: SlowAfter %v must be below SlowTimeout %v (and Timeout %v)", w.slowAfter, w.slowTimeout, w.timeout))
	}
	if w.giveUp < 7*24*time.Hour {
		panic(fmt.Sprintf("delivery.New: GiveUp %v must be at least 7 days", w.giveUp))
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	if len(w.schedule) == 0 {
		w.schedule = DefaultSchedule()
	}
	w.client = opt.Client
	if hc, ok := opt.Client.(*http.Client); ok {
		// A signed POST must not be redirected: the signature covers host
		// and path, and the Go client turns a POST into a GET on 301 and
		// 302 (a fetch.Poster follows no redirects).
		client := *hc
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		// Every attempt runs under a deadline of its own (Timeout, or
		// SlowTimeout in the slow lane). The client's own Timeout would
		// add, for a transport net/http does not know (fetch's guard), a
		// goroutine, a timer and a cancel channel to every request: ~10 µs
		// of the ~380 µs of server CPU a delivery took (issue 13).
		client.Timeout = 0
		w.client = &client
	}
	w.wake = make(chan struct{}, 1)
	w.kick = make(chan struct{}, 1)
	w.freed = make(chan struct{}, 1)
	w.slots = make(chan struct{}, w.workers)
	w.slow = make(chan struct{}, slowWorkers)
	w.signing = make(chan struct{}, signersPerCPU*runtime.GOMAXPROCS(0))
	w.hosts = newHostLimits(w.perHost)
	w.activities = newCache(activityCached, activityTTL, w.store.OutboxActivityByID)
	w.keys = newCache(keysCached, keyTTL, w.loadKey)
	w.fanOuts = newFanOutBook()
	return w
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (w *Worker) loadKey(ctx context.Context, communityID int64) (*signature.Key, error) {
	pem, err := w.store.SigningKey(ctx, communityID)
	if err != nil {
		return nil, err
	}
	priv, err := keypair.ParsePrivate(pem)
	if err != nil {
		return nil, fmt.Errorf("signing key of community %d: %w", communityID, err)
	}
	key, err := signature.NewKey(priv)
	if err != nil {
		return nil, fmt.Errorf("signing key of community %d: %w", communityID, err)
	}
	return key, nil
}

// Wake tells the worker that deliveries were committed in this process, so
// it claims at once instead of at the next poll. It never blocks.
func (w *Worker) Wake() {
	signal(w.wake)
}

func pollDefault(st *storage.Store) time.Duration {
	if st.Notifies() {
		return DefaultPollNotified
	}
	return DefaultPoll
}

func pollMax(st *storage.Store) time.Duration {
	if st.Notifies() {
		return 10 * time.Second
	}
	return time.Second
}

// keepLeases renews the worker's leases every quarter of Lease until ctx
// ends; a renewal that fails is logged, and the next may work.
func (w *Worker) keepLeases(ctx context.Context) {
	tick := time.NewTicker(w.lease / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := w.store.RenewClaims(ctx, w.now(), w.lease); err != nil && ctx.Err() == nil {
			w.log.Error("renew delivery leases", "err", err)
		}
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Stats counts what a worker did since it was made.
type Stats struct {
	Delivered int64 // answered 2xx
	Dropped   int64 // answered 404 or 410 (the inbox is gone), or withdrawn before it left
	Retried   int64 // attempts that will be retried
	Failed    int64 // refused or given up
	// Unauthorized counts 401 answers, which are retried. Many of them
	// mean our clock or key is wrong (SECURITY.md FLT-14).
	Unauthorized int64
	InFlight     int64 // attempts under way
}

// Stats returns the worker's counters.
func (w *Worker) Stats() Stats {
	return Stats{
		Delivered: w.delivered.Load(), Dropped: w.dropped.Load(), Retried: w.retried.Load(),
		Failed: w.failed.Load(), Unauthorized: w.unauthorized.Load(), InFlight: w.inFlight.Load(),
	}
}

// Run delivers until ctx ends, then lets the requests in flight finish for
// up to Drain (cancelling the rest, which are retried later), writes their
// outcomes and releases its claims. It returns nil after a clean stop.
//
// On SQLite, Run assumes it is the only delivering process of its
// database: it starts by releasing every claim, so deliveries leased by a
// crashed process are retried at once. On PostgreSQL several processes
// deliver from one queue: each renews its own leases while it runs, and
// listens for the deliveries the others queue. Call Run once per Worker.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.store.ReleaseClaims(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it began: it claimed nothing
		}
		return fmt.Errorf("start delivery: %w", err)
	}
	// Leases are renewed until the outcomes are written, after ctx ends.
	leasing, stopLeasing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopLeasing()
	go w.keepLeases(leasing)
	go func() { _ = w.store.ListenDeliveries(ctx, w.Wake) }()
	w.beat()
	w.running.Store(true)
	defer w.running.Store(false)

	// sending is the context of the requests: it ends Drain after ctx.
	sending, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSending()
	stopDrain := context.AfterFunc(ctx, func() { time.AfterFunc(w.drain, stopSending) })
	defer stopDrain()

	results := make(chan result, flushSize)
	written := make(chan error, 1)
	// The writer outlives ctx: it must still write the outcomes of the
	// requests that finish after ctx ends.
	go func() { written <- w.write(context.WithoutCancel(ctx), results) }()
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		w.sample(ctx)
	}()

	var attempts sync.WaitGroup
	w.claimLoop(ctx, sending, &attempts, results)
	attempts.Wait()
	close(results)
	err := <-written
	<-sampled
	// Rows claimed but never started would wait out their lease.
	if rerr := w.store.ReleaseClaims(context.WithoutCancel(ctx)); rerr != nil {
		err = errors.Join(err, fmt.Errorf("stop delivery: %w", rerr))
	}
	return err
}

// sample records the queue depth every SampleEvery until ctx ends, for the
// console's chart. A failed sample is logged; the next one may work.
func (w *Worker) sample(ctx context.Context) {
	tick := time.NewTicker(SampleEvery)
	defer tick.Stop()
	for {
		if err := w.store.SampleQueueDepth(ctx, w.now()); err != nil && ctx.Err() == nil {
			w.log.Error("sample delivery queue", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// beat records that the claim loop is turning, on the real clock: it is
// compared with the real clock by whoever asks for Health.
func (w *Worker) beat() { w.heartbeat.Store(time.Now().UnixMilli()) }

// Health is what the worker says about itself.
type Health struct {
	// Running: Run is delivering (started and not stopped).
	Running bool
	// LastTurn is when the claim loop last looked for work; it turns at
	// least every Poll while it runs.
	LastTurn time.Time
}

// Health reports whether the worker runs and when its loop last turned.
func (w *Worker) Health() Health {
	h := Health{Running: w.running.Load()}
	if ms := w.heartbeat.Load(); ms != 0 {
		h.LastTurn = time.UnixMilli(ms)
	}
	return h
}

// claimLoop claims due rows and starts an attempt for each as slots free
// up, until ctx ends. The caller waits for the attempts.
//
// It claims ahead, up to Batch rows, and keeps them in a backlog, so that
// claims come in large batches: a claim scans the due rows, which costs
// more as the queue grows. A claim that found fewer rows than it asked for
// is followed by a pause (claimPauseIdle). The claim counts backlog rows as in flight, so the
// per-host limit holds, and a row waits in the backlog only for a free
// slot, never for its host.
//
// A claim runs beside the loop, which goes on starting the backlog's rows
// meanwhile: a claim waits for the one writer, behind the posts coming in
// and the outcomes, and takes a few milliseconds more itself; with the
// loop waiting for it, the slots freed meanwhile stayed empty (issue 13).
//
// Rows still in the backlog when ctx ends keep their lease, as do the rows
// of a claim still running then; the next Run releases them.
func (w *Worker) claimLoop(ctx, sending context.Context, attempts *sync.WaitGroup, results chan<- result) {
	var backlog []storage.Delivery
	want := true // something may be due: claim when allowed
	busy := false
	var notBefore time.Time   // rate limit of claims, on the real clock
	var claiming chan claimed // the claim running, if any
	for {
		w.beat()
		if ctx.Err() == nil {
			backlog = w.startDue(ctx, sending, backlog, attempts, results)
		}
		if ctx.Err() != nil {
			// Rows keep their lease until the next Run releases it; the
			// deliveries taken from fan-outs are queued as rows.
			if claiming != nil {
				c := <-claiming
				backlog = append(backlog, c.rows...)
				for _, p := range c.ended {
					results <- result{ended: p}
				}
			}
			for _, d := range backlog {
				if d.FanOut != 0 {
					results <- w.unsent(d)
				}
			}
			return
		}
		if claiming == nil && want && len(backlog) <= w.batch/2 && !time.Now().Before(notBefore) {
			claiming = make(chan claimed, 1)
			want = false
			go w.claimAhead(ctx, w.batch-len(backlog), claiming)
		}

		var wait time.Duration
		switch {
		case claiming != nil:
			wait = w.poll // the claim's end wakes the loop
		case len(backlog) > w.batch/2:
			wait = w.poll // nothing to claim before the backlog drains
		case want:
			wait = max(time.Until(notBefore), 0) // rate limited
		default:
			wait = w.untilNextClaim()
		}
		var freed chan struct{}
		if len(backlog) > 0 {
			freed = w.freed
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case c := <-claiming:
			claiming = nil
			notBefore = time.Time{}
			if len(c.rows) < c.limit {
				notBefore = time.Now().Add(claimPauseIdle * c.took)
			}
			if c.err != nil {
				w.log.Error("claim deliveries", "err", c.err)
				notBefore = time.Now().Add(w.poll)
			}
			if c.err == nil && len(c.rows) == 0 && busy && len(backlog) == 0 {
				w.log.Debug("no more deliveries due")
			}
			busy = len(c.rows) > 0
			// There may be more due right now, or a wake came meanwhile.
			want = want || len(c.rows) >= c.limit
			backlog = w.spill(backlog, c.rows, results)
			for _, p := range c.ended {
				results <- result{ended: p}
			}
		case <-w.wake:
			want = true
		case <-w.kick:
			want = true
		case <-timer.C:
			want = want || claiming == nil
		case <-freed:
		}
		timer.Stop()
	}
}

// claimed is what a claim found.
type claimed struct {
	rows  []storage.Delivery
	ended []storage.FanOutProgress // fan-outs done with no delivery left
	err   error
	limit int           // the rows it asked for
	took  time.Duration // the claim's own time, without its wait for Yield
}

// claimAhead waits for the inbox's requests in flight, like a signature
// (Yield), then claims up to limit rows and sends what it found on out.
func (w *Worker) claimAhead(ctx context.Context, limit int, out chan<- claimed) {
	w.yield.wait(ctx)
	began := time.Now()
	ds, ended, err := w.claim(ctx, limit)
	out <- claimed{rows: ds, ended: ended, err: err, limit: limit, took: time.Since(began)}
}

// claimPauseIdle is how long the loop waits after a claim that found fewer
// rows than it asked for, in multiples of the time the claim took: there
// is less to gain from claiming again soon, and the claim holds the one
// writer connection, which the inboxes need too. A claim that found all
// it asked for is not followed by a pause: the next comes only once the
// backlog is down to half, so claims take the writer no more often than
// the rows are sent. (A pause as long as the claim after those too held
// deliveries on PostgreSQL, where a claim that expands the fan-outs it
// needs takes 35-150 ms, to ~2,300/s.)
const claimPauseIdle = 3

// signersPerCPU is how many signatures may be made at once per CPU Go
// uses. The signature runs in C (OpenSSL), where the thread making it can
// be put aside by the kernel for the fake hosts or SQLite; with one per CPU
// the CPU then sat idle (81-83% busy in a fan-out, 2,973 deliveries/s);
// with two, 88-89% and 3,333-3,358/s, the ingest's p99 unchanged (25-45
// ms, issue 13).
const signersPerCPU = 2

// claimPerHost is how many rows a claim leases a host, in multiples of
// PerHost (see claim).
const claimPerHost = 2

// claim leases up to limit due rows, then takes fan-outs for the room
// left, and at least a quarter of limit: fan-outs, the new posts, do not
// wait for a long queue of retries.
//
// It also returns the progress to write of fan-outs that ended without a
// delivery left to make.
func (w *Worker) claim(ctx context.Context, limit int) ([]storage.Delivery, []storage.FanOutProgress, error) {
	// Not cancelled with ctx: rows leased by a claim cut off halfway would
	// wait out their lease.
	now := w.now()
	// The database counts a host's leased rows, and a row stays leased
	// until its outcome is written, up to 50 ms after its answer: at
	// PerHost rows a host, a host's next rows came only after that, and a
	// host getting two Announces of each post got 67 a second at most.
	// At twice PerHost they are at hand; the host slots still keep
	// PerHost requests in flight (issue 13).
	ds, err := w.store.ClaimQueued(context.WithoutCancel(ctx), now, w.lease, claimPerHost*w.perHost, limit)
	if err != nil {
		return nil, nil, err
	}
	w.claimedAt(now)
	resume := w.fanOuts.resumable()
	taken, err := w.store.TakeFanOuts(context.WithoutCancel(ctx), now, w.lease, max(limit-len(ds), limit/4), resume...)
	if err != nil {
		// The rows claimed are sent; the fan-outs wait for the next claim.
		w.log.Error("take fan-outs", "err", err)
		return ds, nil, nil
	}
	ended := w.fanOuts.add(&taken, resume)
	return append(ds, taken.Deliveries...), ended, nil
}

// start takes a slot in lane and makes an attempt at d in a new
// goroutine. It returns false, and does nothing, when lane is full.
func (w *Worker) start(ctx, sending context.Context, d storage.Delivery, lane chan struct{}, attempts *sync.WaitGroup, results chan<- result) bool {
	s := take(lane)
	if s == nil {
		return false
	}
	w.inFlight.Add(1)
	attempts.Go(func() {
		results <- w.own(d, w.attempt(ctx, sending, d, s))
		w.inFlight.Add(-1)
		s.leave()
		signal(w.freed)
	})
	return true
}

// untilNextClaim is how long the loop may wait when nothing more can be
// claimed now: until the next poll, or the earliest retry written since.
func (w *Worker) untilNextClaim() time.Duration {
	w.soonestMu.Lock()
	defer w.soonestMu.Unlock()
	d := w.poll
	if !w.soonest.IsZero() {
		d = min(d, max(w.soonest.Sub(w.now()), 0))
	}
	return d
}

// claimedAt forgets the earliest retry once a claim at now covered it.
func (w *Worker) claimedAt(now time.Time) {
	w.soonestMu.Lock()
	defer w.soonestMu.Unlock()
	if !w.soonest.After(now) {
		w.soonest = time.Time{}
	}
}

// noteRetry records that a retry is due at t.
func (w *Worker) noteRetry(t time.Time) {
	w.soonestMu.Lock()
	defer w.soonestMu.Unlock()
	if w.soonest.IsZero() || t.Before(w.soonest) {
		w.soonest = t
	}
}
