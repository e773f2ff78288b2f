package delivery

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// follow makes the actor whose inbox is inbox (no shared inbox) an
// accepted follower of the fixture's community.
func (fx *fixture) follow(t testing.TB, inbox string) {
	t.Helper()
	ctx := context.Background()
	iri := strings.TrimSuffix(inbox, "/inbox")
	a := storage.Actor{IRI: iri, Type: "Person", Host: storage.HostOf(inbox), Inbox: inbox,
		Raw: []byte("{}"), FetchedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := fx.st.UpsertActor(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := fx.st.InTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.UpsertFollow(ctx, storage.Follow{CommunityID: fx.community.ID, ActorIRI: iri, FollowIRI: iri + "#follow",
			State: storage.FollowAccepted, CreatedAt: time.Now()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// fanOut stores an activity and queues it for the community's followers,
// as a post's transaction does.
func (fx *fixture) fanOut(t testing.TB, iri string) int64 {
	t.Helper()
	ctx := context.Background()
	id := fx.activity(t, iri)
	if err := fx.st.InTx(ctx, func(tx *storage.Tx) error {
		queued, err := tx.QueueFanOut(ctx, id, fx.community.ID, storage.FamilyUnknown, time.Now())
		if err == nil && !queued {
			err = fmt.Errorf("no fan-out queued")
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

func (fx *fixture) rows(t testing.TB, table string) int {
	t.Helper()
	counts, err := fx.st.RowCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return counts[table]
}

// A fan-out is sent from memory: every inbox gets the activity once, and
// nothing is left in the database, neither delivery rows nor the fan-out;
// the hourly counts and the hosts' health are recorded as for rows.
func TestFanOutIsSentWithoutRows(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	a := fx.newFakeHost(t, nil, nil)
	b := fx.newFakeHost(t, nil, nil)
	for i := range 3 {
		fx.follow(t, a.inbox(fmt.Sprintf("/users/%d/inbox", i)))
	}
	fx.follow(t, b.inbox("/users/x/inbox"))
	fx.fanOut(t, "https://coppice.example/a/1")

	r := fx.start(t, Options{})
	r.w.Wake()
	a.got.wait(t, "three deliveries to host a", 5*time.Second, atLeast[request](3))
	b.got.wait(t, "one delivery to host b", 5*time.Second, atLeast[request](1))
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	for i := range 3 {
		if n := a.count(fmt.Sprintf("/users/%d/inbox", i)); n != 1 {
			t.Errorf("inbox %d of host a got %d requests, want 1", i, n)
		}
	}
	if d, f := fx.rows(t, "deliveries"), fx.rows(t, "fan_outs"); d != 0 || f != 0 {
		t.Errorf("%d delivery rows and %d fan-outs left, want none", d, f)
	}
	if s := r.w.Stats(); s.Delivered != 4 {
		t.Errorf("Stats() = %+v, want 4 delivered", s)
	}
	hours, err := fx.st.DeliveryHours(context.Background(), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 1 || hours[0].Outcome != storage.OutcomeDelivered || hours[0].Count != 4 {
		t.Errorf("hourly counts %+v, want 4 delivered", hours)
	}
	for _, h := range []*fakeHost{a, b} {
		if got := fx.host(t, h.name); got.LastSuccessAt.IsZero() {
			t.Errorf("health of %s = %+v, want a success", h.name, got)
		}
	}
}

// A delivery of a fan-out that fails gets a row: retried until the host
// takes it, or kept as failed for the console when refused for good.
func TestFanOutFailuresBecomeRows(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	flaky := fx.newFakeHost(t, nil, func(h *fakeHost) {
		h.answer = func(_ request, n int) (int, http.Header) {
			if n <= 2 {
				return http.StatusServiceUnavailable, nil
			}
			return http.StatusAccepted, nil
		}
	})
	refusing := fx.newFakeHost(t, nil, func(h *fakeHost) {
		h.answer = func(request, int) (int, http.Header) { return http.StatusBadRequest, nil }
	})
	fx.follow(t, flaky.inbox("/users/a/inbox"))
	fx.follow(t, refusing.inbox("/users/b/inbox"))
	fx.fanOut(t, "https://coppice.example/a/1")

	r := fx.start(t, Options{Schedule: tinySchedule(), Poll: 20 * time.Millisecond})
	r.w.Wake()
	flaky.got.wait(t, "two refusals and the delivery", 5*time.Second, atLeast[request](3))
	refusing.got.wait(t, "the refusal", 5*time.Second, atLeast[request](1))
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if n := flaky.count("/users/a/inbox"); n != 3 {
		t.Errorf("the flaky host got %d requests, want 3", n)
	}
	if n := refusing.count("/users/b/inbox"); n != 1 {
		t.Errorf("the refusing host got %d requests, want 1", n)
	}
	if queued, failed := fx.queue(t); queued != 0 || failed != 1 {
		t.Errorf("queue = %d queued, %d failed; want the refused one failed", queued, failed)
	}
	if n := fx.rows(t, "fan_outs"); n != 0 {
		t.Errorf("%d fan-outs left, want 0", n)
	}
}

// Stopped in the middle of a fan-out, the worker queues a row for every
// delivery it took and did not make, and deletes the fan-out: the next Run
// sends each of them once, and nothing twice.
func TestStopQueuesTheRestOfAFanOut(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	stopMidwayAndResume(t, fx, 40, func(hosts []*fakeHost, perHost int) {
		for _, h := range hosts {
			for i := range perHost {
				fx.follow(t, h.inbox("/users/"+strconv.Itoa(i)+"/inbox"))
			}
		}
		fx.fanOut(t, "https://coppice.example/a/1")
	}, func() {
		if n := fx.rows(t, "fan_outs"); n != 0 {
			t.Errorf("%d fan-outs after a clean stop, want 0", n)
		}
	})
}

// FLT-05 with fan-outs: a host that answers slowly gets at most
// claimPerHost×PerHost of the backlog; the rest of its deliveries are
// queued as rows, and the fast host's deliveries are not held up.
func TestFanOutsOfASlowHostSpillToRows(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	release := make(chan struct{})
	slow := fx.newFakeHost(t, nil, func(h *fakeHost) { h.hold = release })
	fast := fx.newFakeHost(t, nil, nil)
	const n = 30
	for i := range n {
		fx.follow(t, slow.inbox("/users/"+strconv.Itoa(i)+"/inbox"))
	}
	fx.follow(t, fast.inbox("/users/x/inbox"))
	for i := range 5 {
		fx.fanOut(t, fmt.Sprintf("https://coppice.example/a/%d", i))
	}

	r := fx.start(t, Options{PerHost: 2, Batch: 64})
	r.w.Wake()
	fast.got.wait(t, "the fast host's five deliveries", 5*time.Second, atLeast[request](5))
	// 150 deliveries for the slow host: those not in flight are queued as
	// rows (written within flushEvery) but for at most
	// claimPerHost×PerHost in the backlog.
	held := func() int {
		queued, _ := fx.queue(t)
		return 5*n - queued - int(r.w.Stats().InFlight)
	}
	deadline := time.Now().Add(5 * time.Second)
	for held() > claimPerHost*2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if h := held(); h > claimPerHost*2 {
		t.Errorf("%d of the slow host's deliveries held in memory, want at most %d", h, claimPerHost*2)
	}
	if got := slow.maxConcurrent(); got > 2 {
		t.Errorf("%d requests at once to the slow host, want at most PerHost (2)", got)
	}
	close(release)
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
}

// A fan-out bigger than a claim goes out over several takes, each
// resuming after the last inbox taken: every inbox gets it once, and the
// fan-out is deleted with its last outcome.
func TestFanOutBiggerThanTheBatch(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	var hosts []*fakeHost
	for range 6 {
		hosts = append(hosts, fx.newFakeHost(t, nil, nil))
	}
	const perHost = 10
	for _, h := range hosts {
		for i := range perHost {
			fx.follow(t, h.inbox("/users/"+strconv.Itoa(i)+"/inbox"))
		}
	}
	fx.fanOut(t, "https://coppice.example/a/1")

	r := fx.start(t, Options{Batch: 16})
	r.w.Wake()
	for _, h := range hosts {
		h.got.wait(t, "the fan-out", 10*time.Second, atLeast[request](perHost))
	}
	deadline := time.Now().Add(5 * time.Second)
	for fx.rows(t, "fan_outs") != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	for _, h := range hosts {
		for i := range perHost {
			if n := h.count("/users/" + strconv.Itoa(i) + "/inbox"); n != 1 {
				t.Errorf("%s inbox %d got %d requests, want 1", h.name, i, n)
			}
		}
	}
	if n := fx.rows(t, "fan_outs"); n != 0 {
		t.Errorf("%d fan-outs left, want 0", n)
	}
	if queued, failed := fx.queue(t); queued != 0 || failed != 0 {
		t.Errorf("queue = %d queued, %d failed; want empty", queued, failed)
	}
	if s := r.w.Stats(); s.Delivered != 6*perHost {
		t.Errorf("Stats() = %+v, want %d delivered", s, 6*perHost)
	}
}

// The book of fan-outs says a fan-out is done only once every inbox taken
// has its outcome and none is left to take, numbers a resumed take's
// deliveries after the earlier ones, and ends a fan-out whose resumption
// found nothing once its outcomes are in.
func TestFanOutBookWaitsForTheWholeFanOut(t *testing.T) {
	t.Parallel()
	b := newFanOutBook()
	d := func(fanOut int64, seq int, inbox string) storage.Delivery {
		return storage.Delivery{FanOut: fanOut, ActivityID: 100 + fanOut, Seq: seq, Inbox: inbox}
	}
	ref := func(fanOut int64) storage.FanOutRef { return storage.FanOutRef{ID: fanOut, ActivityID: 100 + fanOut} }
	first := storage.Taken{Deliveries: []storage.Delivery{d(7, 0, "a"), d(7, 1, "b"), d(9, 0, "z")}, More: []storage.FanOutRef{ref(7)}}
	if ended := b.add(&first, nil); len(ended) != 0 {
		t.Fatalf("add ended %v, want nothing", ended)
	}
	if got := b.resumable(); len(got) != 1 || got[0] != ref(7) {
		t.Fatalf("resumable %v, want [7]", got)
	}
	for _, x := range first.Deliveries[:2] {
		p, moved := b.settle(&x)
		if !moved || p.Done {
			t.Errorf("settle %s = %+v, %v; want progress, not done: fan-out 7 has more to take", x.Inbox, p, moved)
		}
	}
	if p, _ := b.settle(&first.Deliveries[2]); !p.Done || p.ID != 9 {
		t.Errorf("settle z = %+v, want fan-out 9 done", p)
	}
	second := storage.Taken{Deliveries: []storage.Delivery{d(7, 0, "c")}}
	b.add(&second, []storage.FanOutRef{ref(7)})
	if got := second.Deliveries[0].Seq; got != 2 {
		t.Errorf("resumed delivery numbered %d, want 2 (after a and b)", got)
	}
	if p, _ := b.settle(&second.Deliveries[0]); !p.Done {
		t.Errorf("settle c = %+v, want fan-out 7 done", p)
	}

	third := storage.Taken{Deliveries: []storage.Delivery{d(8, 0, "a")}, More: []storage.FanOutRef{ref(8)}}
	b.add(&third, nil)
	b.settle(&third.Deliveries[0])
	if ended := b.add(&storage.Taken{Ended: []storage.FanOutRef{ref(8)}}, []storage.FanOutRef{ref(8)}); len(ended) != 1 || !ended[0].Done || ended[0].FanOutRef != ref(8) {
		t.Errorf("resumption that found nothing ended %v, want fan-out 8 done", ended)
	}
	if got := b.resumable(); len(got) != 0 {
		t.Errorf("resumable %v after everything ended, want none", got)
	}

	// SQLite gives a deleted last row's id to the next row: the outcome of
	// a withdrawn fan-out's delivery must not settle its successor's.
	old := storage.Taken{Deliveries: []storage.Delivery{{FanOut: 5, ActivityID: 50, Inbox: "a"}}}
	b.add(&old, nil)
	successor := storage.Taken{Deliveries: []storage.Delivery{{FanOut: 5, ActivityID: 51, Inbox: "a"}, {FanOut: 5, ActivityID: 51, Seq: 1, Inbox: "b"}}}
	b.add(&successor, nil)
	if p, moved := b.settle(&old.Deliveries[0]); !p.Done || p.ActivityID != 50 {
		t.Errorf("settle of the withdrawn fan-out's delivery = %+v, %v; want it done, as itself", p, moved)
	}
	if p, _ := b.settle(&successor.Deliveries[0]); p.Done || p.ActivityID != 51 {
		t.Errorf("settle of the successor's first = %+v; want progress of 51, not done", p)
	}
}
