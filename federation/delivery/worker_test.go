package delivery

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

func TestDeliversOnceToEachInbox(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	a := fx.newFakeHost(t, nil, nil)
	b := fx.newFakeHost(t, nil, nil)
	id := fx.activity(t, "https://coppice.example/a/1")
	fx.enqueue(t, id, time.Now(), a.inbox("/inbox"), a.inbox("/users/x/inbox"), b.inbox("/inbox"))

	r := fx.start(t, Options{UserAgent: "coppice-test/1.0"})
	r.w.Wake()
	got := a.got.wait(t, "two deliveries to host a", 5*time.Second, atLeast[request](2))
	got = append(got, b.got.wait(t, "one delivery to host b", 5*time.Second, atLeast[request](1))...)
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}

	act, err := fx.st.OutboxActivityByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range got {
		if !bytes.Equal(req.body, act.Body) {
			t.Errorf("body to %s = %s, want %s", req.path, req.body, act.Body)
		}
		if ua := req.header.Get("User-Agent"); ua != "coppice-test/1.0" {
			t.Errorf("User-Agent to %s = %q, want coppice-test/1.0", req.path, ua)
		}
		if req.header.Get("Digest") == "" {
			t.Errorf("request to %s has no Digest", req.path)
		}
	}
	for _, c := range []struct {
		h    *fakeHost
		path string
	}{{a, "/inbox"}, {a, "/users/x/inbox"}, {b, "/inbox"}} {
		if n := c.h.count(c.path); n != 1 {
			t.Errorf("%s%s got %d requests, want 1", c.h.name, c.path, n)
		}
	}
	if queued, failed := fx.queue(t); queued != 0 || failed != 0 {
		t.Errorf("queue = %d queued, %d failed; want empty", queued, failed)
	}
	if s := r.w.Stats(); s.Delivered != 3 || s.InFlight != 0 {
		t.Errorf("Stats() = %+v, want 3 delivered, none in flight", s)
	}
	for _, h := range []*fakeHost{a, b} {
		if got := fx.host(t, h.name); got.LastSuccessAt.IsZero() || got.ConsecutiveFailures != 0 {
			t.Errorf("health of %s = %+v, want a success", h.name, got)
		}
	}
}

// FLT-01: a host that refuses connections gets everything once it is back,
// and the other hosts are served meanwhile.
func TestRefusedConnectionsAreRetriedUntilTheHostRecovers(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // connections to addr are refused until it listens again
	down := "http://" + addr
	live := fx.newFakeHost(t, nil, nil)
	id := fx.activity(t, "https://coppice.example/a/1")
	fx.enqueue(t, id, time.Now(), down+"/inbox", down+"/users/a/inbox", live.inbox("/inbox"), live.inbox("/users/a/inbox"))

	r := fx.start(t, Options{Schedule: tinySchedule(), Poll: 20 * time.Millisecond})
	r.w.Wake()
	live.got.wait(t, "both deliveries to the live host", 5*time.Second, atLeast[request](2))
	fx.logs.j.wait(t, "three refused attempts", 5*time.Second, func(es []logEntry) bool {
		return len(attemptsTo(es, down+"/inbox")) >= 3
	})
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port of the refusing host was taken meanwhile: %v", err)
	}
	back := fx.newFakeHost(t, ln, nil)
	back.got.wait(t, "both deliveries after recovery", 5*time.Second, atLeast[request](2))
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}

	for _, c := range []struct {
		h    *fakeHost
		path string
	}{{live, "/inbox"}, {live, "/users/a/inbox"}, {back, "/inbox"}, {back, "/users/a/inbox"}} {
		if n := c.h.count(c.path); n != 1 {
			t.Errorf("%s%s got %d requests, want 1", c.h.name, c.path, n)
		}
	}
	for _, e := range attemptsTo(fx.logs.j.all(), down+"/inbox") {
		if e.attrs["err"] == "" && e.attrs["status"] == "" {
			t.Errorf("attempt log %v has neither err nor status", e.attrs)
		}
	}
	if queued, failed := fx.queue(t); queued != 0 || failed != 0 {
		t.Errorf("queue = %d queued, %d failed; want empty", queued, failed)
	}
	h := fx.host(t, addr)
	if h.LastFailureAt.IsZero() || h.LastSuccessAt.Before(h.LastFailureAt) || h.ConsecutiveFailures != 0 || h.Unreachable {
		t.Errorf("health of %s = %+v, want failures then a success", addr, h)
	}
}

// FLT-02: 503s are retried with growing delays until the host accepts.
func TestServerErrorsAreRetriedWithBackoff(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	schedule := []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond}
	var name atomic.Value
	h := fx.newFakeHost(t, nil, func(h *fakeHost) {
		h.answer = func(_ request, n int) (int, http.Header) {
			if n <= 3 {
				return http.StatusServiceUnavailable, nil
			}
			// Host results are written before outcomes, and this row was
			// claimed again only after its third outcome was written.
			got, err := fx.st.HostByName(context.Background(), name.Load().(string))
			if err != nil || got.ConsecutiveFailures != 3 {
				t.Errorf("health before the 4th attempt = %+v, %v; want 3 failures in a row", got, err)
			}
			return http.StatusAccepted, nil
		}
	})
	name.Store(h.name)
	id := fx.activity(t, "https://coppice.example/a/1")
	fx.enqueue(t, id, time.Now(), h.inbox("/inbox"))

	r := fx.start(t, Options{Schedule: schedule, Poll: 20 * time.Millisecond})
	r.w.Wake()
	reqs := h.got.wait(t, "three 503s and a 202", 5*time.Second, atLeast[request](4))
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}

	for i := 1; i < len(reqs); i++ {
		gap, least := reqs[i].at.Sub(reqs[i-1].at), time.Duration(float64(schedule[i-1])*(1-jitter))
		if gap < least {
			t.Errorf("attempt %d came %v after attempt %d, want at least %v", i+1, gap, i, least)
		}
	}
	var numbers []string
	for _, e := range attemptsTo(fx.logs.j.all(), h.inbox("/inbox")) {
		numbers = append(numbers, e.attrs["attempt"])
	}
	if want := []string{"1", "2", "3", "4"}; !slices.Equal(numbers, want) {
		t.Errorf("attempt numbers logged = %v, want %v", numbers, want)
	}
	if n := h.count("/inbox"); n != 4 {
		t.Errorf("inbox got %d requests, want 4", n)
	}
	if queued, failed := fx.queue(t); queued != 0 || failed != 0 {
		t.Errorf("queue = %d queued, %d failed; want empty", queued, failed)
	}
	got := fx.host(t, h.name)
	if got.LastFailureAt.IsZero() || got.LastSuccessAt.Before(got.LastFailureAt) || got.ConsecutiveFailures != 0 {
		t.Errorf("health = %+v, want failures then a success", got)
	}
	if s := r.w.Stats(); s.Retried != 3 || s.Delivered != 1 {
		t.Errorf("Stats() = %+v, want 3 retried, 1 delivered", s)
	}
}

// A delivery that failed while its post was deleted is not tried again:
// the Announce of the post's Create, sent after its Delete, would bring
// the post back.
func TestWithdrawnActivityIsNotRetried(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	const post = "https://remote.example/notes/1"
	ctx := context.Background()
	var id int64
	err := fx.st.InTx(ctx, func(tx *storage.Tx) error {
		var err error
		id, err = tx.CreateOutboxActivity(ctx, storage.OutboxActivity{
			IRI: "https://coppice.example/a/1", CommunityID: fx.community.ID, Type: "Announce", KeyID: fx.keyID,
			Body: []byte(`{"type":"Announce","object":{"type":"Create","object":{"content":"the text"}}}`), CreatedAt: time.Now(), ObjectIRI: post,
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	withdrawn := make(chan error, 1)
	h := fx.newFakeHost(t, nil, func(h *fakeHost) {
		h.answer = func(_ request, n int) (int, http.Header) {
			if n == 1 {
				// Deleted while the first attempt is in flight.
				withdrawn <- fx.st.InTx(ctx, func(tx *storage.Tx) error {
					_, err := tx.WithdrawAnnounces(ctx, fx.community.ID, post, 0, time.Now())
					return err
				})
			}
			return http.StatusServiceUnavailable, nil
		}
	})
	fx.enqueue(t, id, time.Now(), h.inbox("/inbox"))

	r := fx.start(t, Options{Schedule: tinySchedule(10 * time.Millisecond), Poll: 10 * time.Millisecond})
	r.w.Wake()
	if err := <-withdrawn; err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		queued, failed := fx.queue(t)
		if queued == 0 && failed == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue = %d queued, %d failed; want the row dropped", queued, failed)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if n := h.count("/inbox"); n != 1 {
		t.Errorf("inbox got %d requests, want only the one before the deletion", n)
	}
	if s := r.w.Stats(); s.Dropped != 1 || s.Retried != 1 {
		t.Errorf("Stats() = %+v, want 1 retried, 1 dropped", s)
	}
	act, err := fx.st.OutboxActivityByID(ctx, id)
	if err != nil || !act.Withdrawn || len(act.Body) != 0 {
		t.Errorf("the withdrawn activity = %+v, %v; want withdrawn with its body emptied", act, err)
	}
}

// FLT-03: after a 429 with Retry-After, the host hears nothing from us
// before that time; other hosts are not delayed.
func TestRetryAfterHoldsBackOnlyThatHost(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	var first atomic.Bool
	limited := fx.newFakeHost(t, nil, func(h *fakeHost) {
		h.answer = func(request, int) (int, http.Header) {
			if first.CompareAndSwap(false, true) {
				return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}
			}
			return http.StatusAccepted, nil
		}
	})
	other := fx.newFakeHost(t, nil, nil)
	id := fx.activity(t, "https://coppice.example/a/1")
	fx.enqueue(t, id, time.Now(), limited.inbox("/a"), limited.inbox("/b"), limited.inbox("/c"))
	fx.enqueue(t, id, time.Now(), other.inbox("/a"), other.inbox("/b"), other.inbox("/c"))

	// One request at a time to a host, so none is under way when the 429
	// arrives.
	r := fx.start(t, Options{PerHost: 1, Schedule: tinySchedule(), Poll: 20 * time.Millisecond})
	r.w.Wake()
	reqs := limited.got.wait(t, "a 429 and three deliveries", 5*time.Second, atLeast[request](4))
	others := other.got.wait(t, "three deliveries to the other host", 5*time.Second, atLeast[request](3))
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}

	if reqs[0].status != http.StatusTooManyRequests {
		t.Fatalf("first answer = %d, want 429", reqs[0].status)
	}
	notBefore := reqs[0].at.Add(time.Second)
	for _, req := range reqs[1:] {
		if req.at.Before(notBefore) {
			t.Errorf("request to %s came %v after the 429, want at least 1s", req.path, req.at.Sub(reqs[0].at))
		}
	}
	for _, req := range others {
		if !req.at.Before(reqs[1].at) {
			t.Errorf("delivery to the other host's %s waited for the limited host", req.path)
		}
	}
	h := fx.host(t, limited.name)
	if h.RetryAfterUntil.Before(notBefore.Truncate(time.Millisecond)) {
		t.Errorf("RetryAfterUntil = %v, want at least %v", h.RetryAfterUntil, notBefore)
	}
	if queued, failed := fx.queue(t); queued != 0 || failed != 0 {
		t.Errorf("queue = %d queued, %d failed; want empty", queued, failed)
	}
}

// FLT-04: a gone inbox is dropped, a refused activity fails alone, and
// neither stops later deliveries to the host.
func TestPermanentRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		wantFailed int
		wantLog    string
	}{
		{"404 drops the delivery", http.StatusNotFound, 0, "inbox gone"},
		{"410 drops the delivery", http.StatusGone, 0, "inbox gone"},
		{"400 fails that activity only", http.StatusBadRequest, 1, "delivery refused"},
		{"403 fails that activity only", http.StatusForbidden, 1, "delivery refused"},
		{"422 fails that activity only", http.StatusUnprocessableEntity, 1, "delivery refused"},
		{"a redirect fails that activity only", http.StatusMovedPermanently, 1, "delivery refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t)
			first := "https://coppice.example/a/1"
			h := fx.newFakeHost(t, nil, func(h *fakeHost) {
				h.answer = func(r request, _ int) (int, http.Header) {
					if bytes.Contains(r.body, []byte(first)) {
						return tc.status, http.Header{"Location": {"http://127.0.0.1:1/elsewhere"}}
					}
					return http.StatusAccepted, nil
				}
			})
			r := fx.start(t, Options{Schedule: tinySchedule(), Poll: 20 * time.Millisecond})
			fx.enqueue(t, fx.activity(t, first), time.Now(), h.inbox("/inbox"))
			r.w.Wake()
			h.got.wait(t, "the refused delivery", 5*time.Second, atLeast[request](1))
			fx.enqueue(t, fx.activity(t, "https://coppice.example/a/2"), time.Now(), h.inbox("/inbox"))
			r.w.Wake()
			reqs := h.got.wait(t, "the next delivery", 5*time.Second, atLeast[request](2))
			fx.logs.j.wait(t, tc.wantLog, 5*time.Second, func(es []logEntry) bool {
				for _, e := range es {
					if e.msg == tc.wantLog {
						return true
					}
				}
				return false
			})
			if err := r.stop(t); err != nil {
				t.Fatalf("Run = %v, want nil", err)
			}

			if n := h.count("/inbox"); n != 2 {
				t.Errorf("inbox got %d requests, want 2 (the refused one not retried)", n)
			}
			if reqs[1].status != http.StatusAccepted {
				t.Errorf("second delivery answered %d, want 202", reqs[1].status)
			}
			if queued, failed := fx.queue(t); queued != 0 || failed != tc.wantFailed {
				t.Errorf("queue = %d queued, %d failed; want 0, %d", queued, failed, tc.wantFailed)
			}
			if got := fx.host(t, h.name); got.ConsecutiveFailures != 0 || got.LastSuccessAt.IsZero() {
				t.Errorf("health = %+v, want a host that answers", got)
			}
		})
	}
}

// FLT-14: a 401 (Mastodon could not fetch our key yet, or our clock is
// off) is retried, counted, and does not count against the host.
func TestUnauthorizedIsRetriedAndCounted(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	h := fx.newFakeHost(t, nil, func(h *fakeHost) {
		h.answer = func(_ request, n int) (int, http.Header) {
			if n == 1 {
				return http.StatusUnauthorized, nil
			}
			return http.StatusAccepted, nil
		}
	})
	fx.enqueue(t, fx.activity(t, "https://coppice.example/a/1"), time.Now(), h.inbox("/inbox"))
	r := fx.start(t, Options{Schedule: tinySchedule(), Poll: 20 * time.Millisecond})
	r.w.Wake()
	h.got.wait(t, "a 401 and a 202", 5*time.Second, atLeast[request](2))
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if s := r.w.Stats(); s.Unauthorized != 1 || s.Retried != 1 || s.Delivered != 1 {
		t.Errorf("Stats() = %+v, want 1 unauthorized, 1 retried, 1 delivered", s)
	}
	if got := fx.host(t, h.name); got.ConsecutiveFailures != 0 || !got.LastFailureAt.IsZero() {
		t.Errorf("health = %+v, want no failure", got)
	}
}

// FLT-05: a host that holds requests open gets at most PerHost of them, and
// the other hosts get all their deliveries meanwhile.
func TestSlowHostDoesNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	hold := make(chan struct{})
	slow := fx.newFakeHost(t, nil, func(h *fakeHost) { h.hold = hold })
	fast := []*fakeHost{fx.newFakeHost(t, nil, nil), fx.newFakeHost(t, nil, nil), fx.newFakeHost(t, nil, nil)}
	id := fx.activity(t, "https://coppice.example/a/1")
	// The slow host's rows are the oldest, so they are claimed first.
	for _, h := range append([]*fakeHost{slow}, fast...) {
		for i := range 10 {
			fx.enqueue(t, id, time.Now(), h.inbox("/users/"+strconv.Itoa(i)+"/inbox"))
		}
	}

	r := fx.start(t, Options{Workers: 6, PerHost: 2, Batch: 4})
	r.w.Wake()
	for _, h := range fast {
		h.got.wait(t, "ten deliveries to a fast host", 10*time.Second, atLeast[request](10))
	}
	if n := slow.maxConcurrent(); n != 2 {
		t.Errorf("slow host had at most %d requests at once, want PerHost = 2", n)
	}
	r.cancel()
	close(hold) // the held requests finish; Run waits for them
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if n := slow.maxConcurrent(); n > 2 {
		t.Errorf("slow host had %d requests at once, want at most 2", n)
	}
	for _, h := range fast {
		if n := h.maxConcurrent(); n > 2 {
			t.Errorf("fast host had %d requests at once, want at most 2", n)
		}
	}
}

// FLT-05: an attempt that outlives Timeout is a host failure and is retried.
func TestAttemptTimeoutIsAHostFailure(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	hold := make(chan struct{})
	slow := fx.newFakeHost(t, nil, func(h *fakeHost) { h.hold = hold })
	t.Cleanup(func() { close(hold) }) // before the server closes
	id := fx.activity(t, "https://coppice.example/a/1")
	fx.enqueue(t, id, time.Now(), slow.inbox("/inbox"))

	r := fx.start(t, Options{Timeout: 100 * time.Millisecond, Schedule: tinySchedule(), Poll: 20 * time.Millisecond})
	r.w.Wake()
	es := fx.logs.j.wait(t, "two timed-out attempts", 5*time.Second, func(es []logEntry) bool {
		return len(attemptsTo(es, slow.inbox("/inbox"))) >= 2
	})
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	for _, e := range attemptsTo(es, slow.inbox("/inbox")) {
		if e.attrs["err"] == "" {
			t.Errorf("attempt %s logged %v, want an error", e.attrs["attempt"], e.attrs)
		}
	}
	if h := fx.host(t, slow.name); h.ConsecutiveFailures < 2 || h.LastError == "" {
		t.Errorf("health = %+v, want at least 2 failures with an error", h)
	}
	if queued, _ := fx.queue(t); queued != 1 {
		t.Errorf("queued = %d, want the delivery still queued", queued)
	}
}

// FLT-02, FLT-05: once a host has failed breakerThreshold times in a row,
// its other deliveries wait for the failed ones' retries instead of each
// taking a slot for a failing request.
func TestFailingHostIsHeldBack(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	h := fx.newFakeHost(t, nil, func(h *fakeHost) {
		h.answer = func(request, int) (int, http.Header) { return http.StatusBadGateway, nil }
	})
	id := fx.activity(t, "https://coppice.example/a/1")
	const n, perHost = 60, 4
	for i := range n {
		fx.enqueue(t, id, time.Now(), h.inbox("/users/"+strconv.Itoa(i)+"/inbox"))
	}

	// Retries an hour away: nothing comes due again during the test.
	r := fx.start(t, Options{PerHost: perHost, Schedule: []time.Duration{time.Hour}})
	r.w.Wake()
	es := fx.logs.j.wait(t, "every delivery attempted or deferred", 10*time.Second, func(es []logEntry) bool {
		k := 0
		for _, e := range es {
			if e.msg == "delivery attempt" || e.msg == "delivery deferred" {
				k++
			}
		}
		return k >= n
	})
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}

	// Requests already under way when the threshold is reached still go.
	sent := len(h.got.all())
	if sent < breakerThreshold || sent > breakerThreshold+perHost {
		t.Errorf("host got %d requests, want %d to %d", sent, breakerThreshold, breakerThreshold+perHost)
	}
	for _, e := range es {
		if e.msg == "delivery deferred" && !strings.Contains(e.attrs["err"], "HTTP 502") {
			t.Errorf("deferral logged %q, want the host's last error", e.attrs["err"])
		}
	}
	if queued, failed := fx.queue(t); queued != n || failed != 0 {
		t.Errorf("queue = %d queued, %d failed; want %d queued", queued, failed, n)
	}
	if s := r.w.Stats(); s.Retried != n {
		t.Errorf("Stats() = %+v, want %d retried", s, n)
	}
}

// A delivery committed by another process, without Wake, goes out within a
// second.
func TestPollFindsDeliveriesCommittedElsewhere(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	h := fx.newFakeHost(t, nil, nil)
	fx.enqueue(t, fx.activity(t, "https://coppice.example/a/1"), time.Now(), h.inbox("/inbox"))
	fx.start(t, Options{}) // claims the first delivery as it starts
	h.got.wait(t, "the first delivery", 5*time.Second, atLeast[request](1))
	fx.logs.j.wait(t, "the worker to go idle", 5*time.Second, func(es []logEntry) bool {
		return slices.ContainsFunc(es, func(e logEntry) bool { return e.msg == "no more deliveries due" })
	})

	// The worker is now idle; a "CLI command" commits without waking it.
	id := fx.activity(t, "https://coppice.example/a/2")
	err := fx.st.InTx(context.Background(), func(tx *storage.Tx) error {
		return tx.EnqueueDelivery(context.Background(), id, h.inbox("/inbox"), time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	h.got.wait(t, "the polled delivery", time.Second, atLeast[request](2))
}

func TestGivesUpOldDeliveries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		queuedAgo    time.Duration
		status       int
		wantRequests int
	}{
		{"queued nine days ago", 9 * 24 * time.Hour, http.StatusAccepted, 0},
		{"the next retry would come after the give-up time", DefaultGiveUp - 10*time.Second, http.StatusServiceUnavailable, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t)
			// The worker's clock runs a month ahead; so does the peer's.
			now := func() time.Time { return time.Now().Add(30 * 24 * time.Hour) }
			h := fx.newFakeHost(t, nil, func(h *fakeHost) {
				h.now = now
				h.answer = func(request, int) (int, http.Header) { return tc.status, nil }
			})
			fx.enqueue(t, fx.activity(t, "https://coppice.example/a/1"), now().Add(-tc.queuedAgo), h.inbox("/inbox"))
			r := fx.start(t, Options{Now: now, Schedule: []time.Duration{time.Minute}})
			r.w.Wake()
			fx.logs.j.wait(t, "the give-up warning", 5*time.Second, func(es []logEntry) bool {
				for _, e := range es {
					if e.msg == "delivery given up" && e.level == slog.LevelWarn {
						return true
					}
				}
				return false
			})
			if err := r.stop(t); err != nil {
				t.Fatalf("Run = %v, want nil", err)
			}
			if n := h.count("/inbox"); n != tc.wantRequests {
				t.Errorf("inbox got %d requests, want %d", n, tc.wantRequests)
			}
			if queued, failed := fx.queue(t); queued != 0 || failed != 1 {
				t.Errorf("queue = %d queued, %d failed; want 0, 1", queued, failed)
			}
			if s := r.w.Stats(); s.Failed != 1 {
				t.Errorf("Stats() = %+v, want 1 failed", s)
			}
		})
	}
}

// Stopping mid-fan-out writes the outcome of every request that was sent,
// and a restarted worker sends the rest, each exactly once.
func TestStopWritesOutcomesOfRequestsInFlight(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	stopMidwayAndResume(t, fx, 50, func(hosts []*fakeHost, perHost int) {
		id := fx.activity(t, "https://coppice.example/a/1")
		for _, h := range hosts {
			for i := range perHost {
				fx.enqueue(t, id, time.Now(), h.inbox("/users/"+strconv.Itoa(i)+"/inbox"))
			}
		}
	}, nil)
}

// stopMidwayAndResume queues, with queue, one activity for perHost inboxes
// on each of four hosts answering after 20 ms, stops the worker after 30
// attempts, checks that every delivery not received is queued, calls
// stopped (when not nil), and runs a worker again: every inbox must get
// the activity exactly once.
func stopMidwayAndResume(t *testing.T, fx *fixture, perHost int, queue func(hosts []*fakeHost, perHost int), stopped func()) {
	t.Helper()
	var hosts []*fakeHost
	for range 4 {
		hosts = append(hosts, fx.newFakeHost(t, nil, func(h *fakeHost) { h.delay = 20 * time.Millisecond }))
	}
	queue(hosts, perHost)

	r := fx.start(t, Options{Workers: 16, PerHost: 4})
	r.w.Wake()
	fx.logs.j.wait(t, "30 attempts", 10*time.Second, func(es []logEntry) bool {
		n := 0
		for _, e := range es {
			if e.msg == "delivery attempt" {
				n++
			}
		}
		return n >= 30
	})
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}

	received := 0
	for _, h := range hosts {
		received += len(h.got.all())
	}
	queued, failed := fx.queue(t)
	if queued != 4*perHost-received || failed != 0 {
		t.Errorf("after stop: %d queued, %d failed, %d received; want queued = %d - received", queued, failed, received, 4*perHost)
	}
	if queued == 0 {
		t.Fatalf("everything was delivered before the stop; the test proves nothing")
	}
	if stopped != nil {
		stopped()
	}
	// Rows claimed ahead but not started keep their lease; the next Run
	// releases it. A row sent but not recorded would be sent again below.
	r2 := fx.start(t, Options{Workers: 16, PerHost: 4})
	r2.w.Wake()
	for _, h := range hosts {
		h.got.wait(t, "the rest of the fan-out", 10*time.Second, atLeast[request](perHost))
	}
	if err := r2.stop(t); err != nil {
		t.Fatalf("second Run = %v, want nil", err)
	}
	for _, h := range hosts {
		for i := range perHost {
			if n := h.count("/users/" + strconv.Itoa(i) + "/inbox"); n != 1 {
				t.Errorf("%s inbox %d got %d requests, want 1", h.name, i, n)
			}
		}
	}
	if queued, failed := fx.queue(t); queued != 0 || failed != 0 {
		t.Errorf("queue = %d queued, %d failed; want empty", queued, failed)
	}
}

func TestNewRejectsUnsafeOptions(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	// A CLI command's deliveries must go out at once while serve runs: on
	// SQLite the worker polls for them below a second; on PostgreSQL it is
	// told of them and polls only for the retries of dead processes.
	tooSlow := time.Second
	if fx.st.Notifies() {
		tooSlow = 10 * time.Second
	}
	tests := []struct {
		name string
		opt  Options
	}{
		{"no store", Options{Client: &http.Client{}}},
		{"no client", Options{Store: fx.st}},
		{"a poll too slow for commands", Options{Store: fx.st, Client: &http.Client{}, Poll: tooSlow}},
		{"a lease too short to renew", Options{Store: fx.st, Client: &http.Client{}, Lease: 3 * time.Second}},
		{"giving up before a host can be marked unreachable", Options{Store: fx.st, Client: &http.Client{}, GiveUp: 6 * 24 * time.Hour}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("New(%+v) did not panic", tc.opt)
				}
			}()
			New(tc.opt)
		})
	}
}

// FLT-17 (issue 12, item 7): hosts that never answer leave the main lane
// after SlowAfter, to the slow lane while it has room and cut off beyond,
// so a healthy host is served with a single main slot while they hang.
func TestFLT17HangingHostsLeaveTheMainLane(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	hold := make(chan struct{})
	var hanging []*fakeHost
	for range 3 {
		hanging = append(hanging, fx.newFakeHost(t, nil, func(h *fakeHost) { h.hold = hold }))
	}
	healthy := fx.newFakeHost(t, nil, nil)
	id := fx.activity(t, "https://coppice.example/a/1")
	// The hanging hosts' rows are the oldest, so they are claimed first.
	for _, h := range hanging {
		fx.enqueue(t, id, time.Now().Add(-time.Minute), h.inbox("/inbox"))
	}
	fx.enqueue(t, id, time.Now(), healthy.inbox("/inbox"))

	// No client timeout and a long Timeout: only the lanes free the slot.
	r := fx.start(t, Options{
		Client: &http.Client{}, Workers: 1, SlowWorkers: 1, SlowAfter: 20 * time.Millisecond,
		Timeout: time.Hour, Lease: 3 * time.Hour, Schedule: []time.Duration{time.Hour},
	})
	t.Cleanup(func() { close(hold) }) // before the worker stops and the servers close
	r.w.Wake()
	healthy.got.wait(t, "the delivery to the healthy host", 10*time.Second, atLeast[request](1))
	es := fx.logs.j.wait(t, "an attempt cut off", 10*time.Second, func(es []logEntry) bool {
		for _, e := range es {
			if e.msg == "delivery attempt" && strings.Contains(e.attrs["err"], errSlowLaneFull.Error()) {
				return true
			}
		}
		return false
	})
	for _, h := range hanging {
		if attemptsTo(es, h.inbox("/inbox")) == nil && h.count("/inbox") == 0 {
			t.Errorf("hanging host %s was never tried", h.name)
		}
	}
}
