package storage_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// queueFanOut stores an activity of c and queues it for c's followers of
// family, in one transaction, and returns its id.
func queueFanOut(t *testing.T, st *storage.Store, c storage.Community, iri string, family storage.Family, now time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		var err error
		id, err = tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: iri, CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now, ObjectIRI: iri + "/object"})
		if err != nil {
			return err
		}
		queued, err := tx.QueueFanOut(ctx, id, c.ID, family, now)
		if err == nil && !queued {
			err = fmt.Errorf("QueueFanOut queued nothing for a community with followers")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// claimAll claims every due delivery at now and returns them by activity.
func claimAll(t *testing.T, st *storage.Store, now time.Time) map[int64][]storage.Delivery {
	t.Helper()
	ds, err := st.ClaimDeliveries(context.Background(), now, time.Minute, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64][]storage.Delivery{}
	for _, d := range ds {
		out[d.ActivityID] = append(out[d.ActivityID], d)
	}
	return out
}

func inboxes(ds []storage.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Inbox)
	}
	slices.Sort(out)
	return out
}

// A post's transaction queues one fan-out row and no delivery; the next
// claim expands it into one delivery per inbox, due from when it was
// queued.
func TestFanOutBecomesDeliveriesWhenClaimed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for i := range 3 {
		follower(t, st, c, "shared.example", fmt.Sprint("u", i), true)
	}
	follower(t, st, c, "solo.example", "a", false)
	queuedAt := time.Unix(1000, 0)
	id := queueFanOut(t, st, c, "https://coppice.example/a/1", storage.FamilyUnknown, queuedAt)

	counts, err := st.RowCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts["deliveries"] != 0 || counts["fan_outs"] != 1 {
		t.Fatalf("after the post's transaction: %d deliveries, %d fan-outs; want 0 and 1", counts["deliveries"], counts["fan_outs"])
	}

	// The queue's figures (metrics, /healthz/delivery) show it waiting.
	q, err := st.QueueState(ctx, queuedAt.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if q.FanOuts != 1 || q.Queued != 0 || !q.OldestDue.Equal(queuedAt) {
		t.Errorf("queue state before the claim: %d fan-outs, %d queued, oldest due %v; want 1, 0 and %v", q.FanOuts, q.Queued, q.OldestDue, queuedAt)
	}

	got := claimAll(t, st, queuedAt.Add(time.Second))
	want := []string{"https://shared.example/inbox", "https://solo.example/users/a/inbox"}
	if !slices.Equal(inboxes(got[id]), want) {
		t.Fatalf("claimed %v, want %v", inboxes(got[id]), want)
	}
	for _, d := range got[id] {
		if !d.QueuedAt.Equal(queuedAt) || !d.NextAttemptAt.Equal(queuedAt) {
			t.Errorf("delivery to %s queued at %v, due at %v; want both %v (when its fan-out was queued)", d.Inbox, d.QueuedAt, d.NextAttemptAt, queuedAt)
		}
	}
	counts, _ = st.RowCounts(ctx)
	if counts["fan_outs"] != 0 {
		t.Errorf("%d fan-outs left after the claim, want 0", counts["fan_outs"])
	}
	if q, err := st.QueueState(ctx, queuedAt.Add(time.Minute)); err != nil || q.FanOuts != 0 || q.Queued != 2 {
		t.Errorf("queue state after the claim: %+v, %v; want no fan-out and 2 queued", q, err)
	}
	// Expanded once only: nothing new for the next claim.
	if again := claimAll(t, st, queuedAt.Add(2*time.Minute)); len(again[id]) != 2 {
		t.Errorf("after the lease ran out: %d deliveries of the activity, want the same 2", len(again[id]))
	}
}

// A community without followers queues no fan-out at all (BM-1's posts).
func TestNoFanOutWithoutFollowers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.example/a/1", CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: time.Unix(1, 0)})
		if err != nil {
			return err
		}
		queued, err := tx.QueueFanOut(ctx, id, c.ID, storage.FamilyUnknown, time.Unix(1, 0))
		if err == nil && queued {
			err = fmt.Errorf("QueueFanOut queued a fan-out for a community without followers")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if counts, _ := st.RowCounts(ctx); counts["fan_outs"] != 0 {
		t.Errorf("%d fan-outs, want 0", counts["fan_outs"])
	}
}

// What a fan-out becomes is decided when it is expanded: the followers,
// the hosts' software and the federation policy of that moment. A
// withdrawn activity (its post deleted) is not expanded at all.
func TestFanOutIsExpandedAsThingsAreThen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for _, h := range []string{"masto.example", "lemmy.example", "unknown.example", "blocked.example", "leaving.example"} {
		follower(t, st, c, h, "u", true)
	}
	if err := st.SetHostSoftware(ctx, "masto.example", "mastodon", storage.FamilyMicroblog, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := st.SetHostSoftware(ctx, "lemmy.example", "lemmy", storage.FamilyGroup, time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	boost := queueFanOut(t, st, c, "https://coppice.example/a/boost", storage.FamilyMicroblog, now)
	group := queueFanOut(t, st, c, "https://coppice.example/a/group", storage.FamilyGroup, now)
	withdrawn := queueFanOut(t, st, c, "https://coppice.example/a/withdrawn", storage.FamilyUnknown, now)

	// After the posts, before any claim: a host is blocked, a follower
	// leaves, and the third activity's post is deleted.
	if err := st.SetDomainPolicy(ctx, "blocked.example", storage.PolicyBlock, now); err != nil {
		t.Fatal(err)
	}
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		if _, err := tx.DeleteFollow(ctx, c.ID, "https://leaving.example/users/u"); err != nil {
			return err
		}
		out, err := tx.WithdrawAnnounces(ctx, c.ID, "https://coppice.example/a/withdrawn/object", 0, now)
		if err == nil && len(out) != 1 {
			err = fmt.Errorf("withdrew %d activities, want 1", len(out))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	got := claimAll(t, st, now.Add(time.Second))
	if want := []string{"https://masto.example/inbox", "https://unknown.example/inbox"}; !slices.Equal(inboxes(got[boost]), want) {
		t.Errorf("the microblog fan-out went to %v, want %v", inboxes(got[boost]), want)
	}
	if want := []string{"https://lemmy.example/inbox", "https://unknown.example/inbox"}; !slices.Equal(inboxes(got[group]), want) {
		t.Errorf("the group fan-out went to %v, want %v", inboxes(got[group]), want)
	}
	if len(got[withdrawn]) != 0 {
		t.Errorf("the withdrawn activity went to %v, want nowhere", inboxes(got[withdrawn]))
	}
	if counts, _ := st.RowCounts(ctx); counts["fan_outs"] != 0 {
		t.Errorf("%d fan-outs left, want 0", counts["fan_outs"])
	}
}

// Many fan-outs are expanded a few per transaction, all of them by one
// call.
func TestExpandFanOutsTakesEveryFanOut(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	follower(t, st, c, "a.example", "u", true)
	follower(t, st, c, "b.example", "u", true)
	now := time.Unix(1000, 0)
	for i := range 7 {
		queueFanOut(t, st, c, fmt.Sprint("https://coppice.example/a/", i), storage.FamilyUnknown, now)
	}
	n, err := st.ExpandFanOuts(ctx, 0)
	if err != nil || n != 7 {
		t.Fatalf("ExpandFanOuts = %d, %v; want 7", n, err)
	}
	counts, _ := st.RowCounts(ctx)
	if counts["deliveries"] != 14 || counts["fan_outs"] != 0 {
		t.Errorf("%d deliveries, %d fan-outs; want 14 and 0", counts["deliveries"], counts["fan_outs"])
	}
	if n, err := st.ExpandFanOuts(ctx, 0); err != nil || n != 0 {
		t.Errorf("ExpandFanOuts again = %d, %v; want 0", n, err)
	}
}

// Asked for some rows, ExpandFanOuts expands fan-outs, a transaction's
// worth at a time, until it has queued that many; the rest wait for the
// next call. A claim asks for the rows it claims.
func TestExpandFanOutsForSomeRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for i := range 10 {
		follower(t, st, c, fmt.Sprintf("h%d.example", i), "u", true)
	}
	now := time.Unix(1000, 0)
	for i := range 9 {
		queueFanOut(t, st, c, fmt.Sprint("https://coppice.example/a/", i), storage.FamilyUnknown, now)
	}
	// 25 rows take three fan-outs of ten; transactions take two.
	n, err := st.ExpandFanOuts(ctx, 25)
	if err != nil || n != 4 {
		t.Fatalf("ExpandFanOuts(25) = %d, %v; want 4", n, err)
	}
	counts, _ := st.RowCounts(ctx)
	if counts["deliveries"] != 40 || counts["fan_outs"] != 5 {
		t.Errorf("%d deliveries, %d fan-outs; want 40 and 5", counts["deliveries"], counts["fan_outs"])
	}
	// A claim of 30 rows expands what it asks for first: two more
	// transactions, 40 rows.
	if _, err := st.ClaimDeliveries(ctx, now, time.Minute, 100, 30); err != nil {
		t.Fatal(err)
	}
	counts, _ = st.RowCounts(ctx)
	if counts["deliveries"] != 80 || counts["fan_outs"] != 1 {
		t.Errorf("after a claim of 30: %d deliveries, %d fan-outs; want 80 and 1", counts["deliveries"], counts["fan_outs"])
	}
}

// processesWithFanOuts opens three processes on one PostgreSQL database
// and queues, as of now, fan-outs of a community with followers on ten
// hosts (one shared inbox each); it returns the processes and how many
// fan-outs it queued.
func processesWithFanOuts(t *testing.T, now time.Time) ([]*storage.Store, int) {
	t.Helper()
	stores := processes(t, 3)
	c := storagetest.Community(t, stores[0], "seeds")
	for i := range 10 {
		follower(t, stores[0], c, fmt.Sprintf("h%d.example", i), "u", true)
	}
	const fanOuts = 60
	for i := range fanOuts {
		queueFanOut(t, stores[0], c, fmt.Sprint("https://coppice.example/a/", i), storage.FamilyUnknown, now)
	}
	return stores, fanOuts
}

// Several processes expand the same fan-outs at once (PostgreSQL): each
// becomes its deliveries exactly once, and no expansion fails.
func TestProcessesExpandEachFanOutOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	stores, fanOuts := processesWithFanOuts(t, time.Unix(1000, 0))
	st := stores[0]
	var wg sync.WaitGroup
	expanded := make([]int, len(stores))
	errs := make([]error, len(stores))
	for i, p := range stores {
		wg.Go(func() { expanded[i], errs[i] = p.ExpandFanOuts(ctx, 0) })
	}
	wg.Wait()
	total := 0
	for i := range stores {
		if errs[i] != nil {
			t.Errorf("process %d: %v", i, errs[i])
		}
		total += expanded[i]
	}
	if total != fanOuts {
		t.Errorf("the processes expanded %v fan-outs, %d in all; want %d", expanded, total, fanOuts)
	}
	counts, _ := st.RowCounts(ctx)
	if counts["deliveries"] != fanOuts*10 || counts["fan_outs"] != 0 {
		t.Errorf("%d deliveries, %d fan-outs; want %d and 0", counts["deliveries"], counts["fan_outs"], fanOuts*10)
	}
}

// A fan-out committed with its post survives the process: a store opened
// again on the database (after a crash, a restart) expands it.
func TestFanOutSurvivesARestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.DB(t)
	st, err := storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	c := storagetest.Community(t, st, "seeds")
	follower(t, st, c, "a.example", "u", true)
	now := time.Unix(1000, 0)
	id := queueFanOut(t, st, c, "https://coppice.example/a/1", storage.FamilyUnknown, now)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	got := claimAll(t, again, now.Add(time.Second))
	if want := []string{"https://a.example/inbox"}; !slices.Equal(inboxes(got[id]), want) {
		t.Errorf("after reopening: claimed %v, want %v", inboxes(got[id]), want)
	}
}

// A burst of fan-outs into a queue the planner last saw empty renews its
// statistics (PostgreSQL): taking the table for empty, it read every due
// row once per host in each claim (see analyzeDeliveriesAfter).
func TestFanOutBurstRenewsStatistics(t *testing.T) {
	if storagetest.Engine() != "postgres" {
		t.Skip("PostgreSQL's planner statistics: run with COPPICE_TEST_DB=postgres (make test does)")
	}
	ctx := context.Background()
	url := storagetest.DB(t)
	st, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows := func() float64 {
		t.Helper()
		var n float64
		if err := raw.QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE relname = 'deliveries'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	c := storagetest.Community(t, st, "seeds")
	for i := range 100 {
		follower(t, st, c, fmt.Sprintf("h%d.example", i), "u", true)
	}
	if _, err := raw.ExecContext(ctx, `ANALYZE deliveries`); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n > 0 {
		t.Fatalf("the planner counts %v deliveries before the burst, want none", n)
	}
	now := time.Unix(1000, 0)
	for i := range 210 {
		queueFanOut(t, st, c, fmt.Sprint("https://coppice.example/a/", i), storage.FamilyUnknown, now)
	}
	if n, err := st.ExpandFanOuts(ctx, 0); err != nil || n != 210 {
		t.Fatalf("ExpandFanOuts = %d, %v; want 210", n, err)
	}
	if err := st.Close(); err != nil { // waits for the ANALYZE
		t.Fatal(err)
	}
	if n := rows(); n < 15_000 {
		t.Errorf("after 21,000 deliveries were queued the planner counts %v", n)
	}
}

// A Tx reads once whether the community has followers, for a post's two
// Announces; a follow accepted in the same Tx counts at once.
func TestFanOutSeesAFollowAcceptedInItsTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	follower(t, st, c, "a.example", "u", true)
	iri := "https://a.example/users/u"
	if err := st.InTx(ctx, func(tx *storage.Tx) error {
		return tx.SetFollowState(ctx, c.ID, iri, storage.FollowPending, time.Unix(2, 0))
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1000, 0)
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.example/a/1", CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now})
		if err != nil {
			return err
		}
		if queued, err := tx.QueueFanOut(ctx, id, c.ID, storage.FamilyUnknown, now); err != nil || queued {
			return fmt.Errorf("QueueFanOut with the follow pending = %v, %v; want nothing queued", queued, err)
		}
		if err := tx.SetFollowState(ctx, c.ID, iri, storage.FollowAccepted, now); err != nil {
			return err
		}
		if queued, err := tx.QueueFanOut(ctx, id, c.ID, storage.FamilyUnknown, now); err != nil || !queued {
			return fmt.Errorf("QueueFanOut once the follow is accepted = %v, %v; want it queued", queued, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := claimAll(t, st, now.Add(time.Second)); len(got) != 1 {
		t.Errorf("deliveries queued for %d activities, want 1", len(got))
	}
}
