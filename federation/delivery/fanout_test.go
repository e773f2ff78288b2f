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
	// 150 deliveries for the slow host: 2 in flight, at most 4 in the
	// backlog, the rest queued as rows (written within flushEvery).
	want := 5*n - 2 - claimPerHost*2
	deadline := time.Now().Add(5 * time.Second)
	queued, _ := fx.queue(t)
	for ; queued < want && time.Now().Before(deadline); queued, _ = fx.queue(t) {
		time.Sleep(10 * time.Millisecond)
	}
	if queued < want {
		t.Errorf("%d rows queued for the slow host, want at least %d", queued, want)
	}
	if got := slow.maxConcurrent(); got > 2 {
		t.Errorf("%d requests at once to the slow host, want at most PerHost (2)", got)
	}
	close(release)
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
}
