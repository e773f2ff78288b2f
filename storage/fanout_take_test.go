package storage_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// takeAll takes the deliveries of due fan-outs, up to room.
func takeAll(t *testing.T, st *storage.Store, now time.Time, room int) []storage.Delivery {
	t.Helper()
	return take(t, st, now, room).Deliveries
}

// take takes deliveries of due fan-outs and of those in resume, up to room.
func take(t *testing.T, st *storage.Store, now time.Time, room int, resume ...storage.FanOutRef) storage.Taken {
	t.Helper()
	taken, err := st.TakeFanOuts(context.Background(), now, time.Minute, room, resume...)
	if err != nil {
		t.Fatal(err)
	}
	return taken
}

func rowCount(t *testing.T, st *storage.Store, table string) int {
	t.Helper()
	counts, err := st.RowCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return counts[table]
}

// A fan-out taken is sent without rows: its inboxes come back in order,
// the fan-out stays leased, and once every outcome is recorded as
// delivered nothing is left, neither rows nor the fan-out.
func TestTakenFanOutLeavesNoRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for i := range 3 {
		follower(t, st, c, "shared.example", fmt.Sprint("u", i), true)
	}
	follower(t, st, c, "solo.example", "a", false)
	follower(t, st, c, "solo.example", "b", false)
	queuedAt := time.Unix(1000, 0)
	id := queueFanOut(t, st, c, "https://coppice.example/a/1", storage.FamilyUnknown, queuedAt)

	ds := takeAll(t, st, queuedAt.Add(time.Second), 100)
	want := []string{"https://shared.example/inbox", "https://solo.example/users/a/inbox", "https://solo.example/users/b/inbox"}
	var got []string
	for i, d := range ds {
		got = append(got, d.Inbox)
		if d.ID != 0 || d.FanOut == 0 || d.Seq != i || d.ActivityID != id || !d.QueuedAt.Equal(queuedAt) || d.Attempts != 0 {
			t.Errorf("delivery %d = %+v; want no row, fan-out set, Seq %d, activity %d, queued at %v", i, d, i, id, queuedAt)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("taken inboxes %q, want %q in order", got, want)
	}
	if n := rowCount(t, st, "deliveries"); n != 0 {
		t.Errorf("%d delivery rows after the take, want 0", n)
	}
	if again := takeAll(t, st, queuedAt.Add(2*time.Second), 100); len(again) != 0 {
		t.Errorf("a second take got %d deliveries of a leased fan-out, want 0", len(again))
	}
	var outs []storage.Outcome
	for i := range ds {
		outs = append(outs, storage.Outcome{FanOut: &ds[i], Done: true, Kind: storage.OutcomeDelivered, At: queuedAt.Add(3 * time.Second)})
	}
	if err := st.RecordOutcomes(ctx, outs, storage.FanOutProgress{FanOutRef: storage.FanOutRef{ID: ds[0].FanOut, ActivityID: id}, Done: true}); err != nil {
		t.Fatal(err)
	}
	if d, f := rowCount(t, st, "deliveries"), rowCount(t, st, "fan_outs"); d != 0 || f != 0 {
		t.Errorf("after the outcomes: %d delivery rows, %d fan-outs; want none", d, f)
	}
	hours, err := st.DeliveryHours(ctx, queuedAt)
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 1 || hours[0].Outcome != storage.OutcomeDelivered || hours[0].Count != 3 {
		t.Errorf("history = %+v, want 3 delivered", hours)
	}
}

// A fan-out bigger than the room goes out over several takes, none of it
// as rows: each take resumes after the last inbox the one before took, and
// a take asked to resume a fan-out with nothing left says it ended.
func TestFanOutBiggerThanTheRoomIsResumed(t *testing.T) {
	t.Parallel()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for i := range 10 {
		follower(t, st, c, fmt.Sprintf("h%d.example", i), "u", false)
	}
	now := time.Unix(1000, 0)
	queueFanOut(t, st, c, "https://coppice.example/a/1", storage.FamilyUnknown, now)

	var got []string
	first := take(t, st, now, 4)
	if len(first.Deliveries) != 4 || len(first.More) != 1 || first.More[0].ID != first.Deliveries[0].FanOut {
		t.Fatalf("first take: %d deliveries, more %v; want 4 and the fan-out", len(first.Deliveries), first.More)
	}
	got = append(got, inboxes(first.Deliveries)...)
	id := first.More[0]
	if other := take(t, st, now, 100); len(other.Deliveries) != 0 {
		t.Errorf("a take not resuming it got %d deliveries of the held fan-out, want 0", len(other.Deliveries))
	}
	second := take(t, st, now, 4, id)
	third := take(t, st, now, 4, id)
	if len(second.Deliveries) != 4 || len(second.More) != 1 || len(third.Deliveries) != 2 || len(third.More) != 0 {
		t.Fatalf("later takes: %d (more %v) then %d (more %v); want 4 and more, then 2 and no more",
			len(second.Deliveries), second.More, len(third.Deliveries), third.More)
	}
	for i, d := range third.Deliveries {
		if d.Seq != i {
			t.Errorf("Seq %d at %d: a take numbers its own deliveries from 0", d.Seq, i)
		}
	}
	got = append(got, inboxes(second.Deliveries)...)
	got = append(got, inboxes(third.Deliveries)...)
	slices.Sort(got)
	if len(slices.Compact(got)) != 10 {
		t.Errorf("took %q over three takes, want the 10 inboxes once each", got)
	}
	if n := rowCount(t, st, "deliveries"); n != 0 {
		t.Errorf("%d rows queued, want none", n)
	}
	if last := take(t, st, now, 4, id); len(last.Deliveries) != 0 || !slices.Equal(last.Ended, []storage.FanOutRef{id}) {
		t.Errorf("resumed once more: %d deliveries, ended %v; want none and the fan-out", len(last.Deliveries), last.Ended)
	}
	if n := rowCount(t, st, "fan_outs"); n != 1 {
		t.Errorf("%d fan-outs, want 1: the worker deletes it with its last outcome", n)
	}
}

// A fan-out resumed goes to the inboxes read at its first take: a
// follower accepted meanwhile gets the next fan-out, not the rest of this
// one; once the leases are released, the fan-out is read afresh.
func TestResumedFanOutKeepsItsFirstAudience(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for i := range 6 {
		follower(t, st, c, fmt.Sprintf("h%d.example", i), "u", false)
	}
	now := time.Unix(1000, 0)
	queueFanOut(t, st, c, "https://coppice.example/a/1", storage.FamilyUnknown, now)
	first := take(t, st, now, 2)
	if len(first.More) != 1 {
		t.Fatalf("first take: more %v, want the fan-out", first.More)
	}
	const late = "https://h9.example/users/u/inbox" // after every other inbox
	follower(t, st, c, "h9.example", "u", false)
	second := take(t, st, now, 100, first.More...)
	if got := inboxes(second.Deliveries); len(got) != 4 || slices.Contains(got, late) {
		t.Errorf("resumed take gave %q, want the 4 inboxes left of the first 6", got)
	}

	queueFanOut(t, st, c, "https://coppice.example/a/2", storage.FamilyUnknown, now)
	next := take(t, st, now, 100)
	if got := inboxes(next.Deliveries); len(got) != 7 || !slices.Contains(got, late) {
		t.Errorf("the next fan-out went to %q, want all 7 followers", got)
	}

	queueFanOut(t, st, c, "https://coppice.example/a/3", storage.FamilyUnknown, now)
	third := take(t, st, now, 2)
	if len(third.More) != 1 {
		t.Fatalf("third fan-out's first take: more %v, want it", third.More)
	}
	follower(t, st, c, "h8.example", "u", false)
	if err := st.ReleaseClaims(ctx); err != nil {
		t.Fatal(err)
	}
	// Released, with no outcome recorded, the fan-outs are sent again
	// from their start, read afresh.
	again := take(t, st, now, 100)
	var got []storage.Delivery
	for _, d := range again.Deliveries {
		if d.FanOut == third.More[0].ID {
			got = append(got, d)
		}
	}
	if got := inboxes(got); len(got) != 8 || !slices.Contains(got, "https://h8.example/users/u/inbox") {
		t.Errorf("after the leases were released, the third fan-out went to %q, want all 8 followers", got)
	}
}

// A fan-out whose lease lapses (its process died) is taken again: only
// the inboxes after the recorded progress and without a row are sent
// again, and no more rows are queued.
func TestFanOutTakenAgainSendsOnlyWhatIsLeft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for i := range 8 {
		follower(t, st, c, fmt.Sprintf("h%d.example", i), "u", false)
	}
	now := time.Unix(1000, 0)
	queueFanOut(t, st, c, "https://coppice.example/a/1", storage.FamilyUnknown, now)
	ds := takeAll(t, st, now, 6) // h6 and h7 are left for later
	if len(ds) != 6 {
		t.Fatalf("took %d, want 6", len(ds))
	}
	// 0-2 delivered (progress recorded through 2), 3 to be retried (its
	// row written), 4 delivered, 5 still in flight when the process dies.
	outs := []storage.Outcome{
		{FanOut: &ds[0], Done: true}, {FanOut: &ds[1], Done: true}, {FanOut: &ds[2], Done: true},
		{FanOut: &ds[3], NextAttemptAt: now.Add(time.Minute), Error: "HTTP 503"},
		{FanOut: &ds[4], Done: true},
	}
	if err := st.RecordOutcomes(ctx, outs, storage.FanOutProgress{FanOutRef: storage.FanOutRef{ID: ds[0].FanOut, ActivityID: ds[0].ActivityID}, DoneThrough: ds[3].Inbox}); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, st, "deliveries"); n != 1 {
		t.Fatalf("%d rows, want 1 (the retry)", n)
	}
	if again := takeAll(t, st, now.Add(time.Second), 100); len(again) != 0 {
		t.Fatalf("took %d deliveries while the lease holds, want 0", len(again))
	}
	if err := st.ReleaseClaims(ctx); err != nil {
		t.Fatal(err)
	}
	again := takeAll(t, st, now.Add(time.Second), 100)
	want := []string{ds[4].Inbox, ds[5].Inbox, "https://h6.example/users/u/inbox", "https://h7.example/users/u/inbox"}
	if got := inboxes(again); !slices.Equal(got, want) {
		t.Errorf("taken again: %q, want %q", got, want)
	}
	if n := rowCount(t, st, "deliveries"); n != 1 {
		t.Errorf("%d rows after the second take, want still 1", n)
	}
	rows, err := st.ClaimQueued(ctx, now.Add(time.Hour), time.Minute, 10, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rows {
		if d.Inbox == ds[3].Inbox && (d.Attempts != 1 || d.LastError != "HTTP 503") {
			t.Errorf("retry row %+v, want 1 attempt and its error", d)
		}
	}
}

// The outcomes of a fan-out's deliveries write the rows they need: a
// failure stays for the console, an attempt never made is queued
// without counting one; a fan-out dropped meanwhile (its post deleted)
// gets no rows.
func TestFanOutOutcomesWriteTheirRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for i := range 3 {
		follower(t, st, c, fmt.Sprintf("h%d.example", i), "u", false)
	}
	now := time.Unix(1000, 0)
	queueFanOut(t, st, c, "https://coppice.example/a/1", storage.FamilyUnknown, now)
	ds := takeAll(t, st, now, 10)
	outs := []storage.Outcome{
		{FanOut: &ds[0], Failed: true, Error: "HTTP 400"},
		{FanOut: &ds[1], Unsent: true, NextAttemptAt: now},
	}
	if err := st.RecordOutcomes(ctx, outs); err != nil {
		t.Fatal(err)
	}
	queued, failed, err := st.QueueStats(ctx)
	if err != nil || queued != 1 || failed != 1 {
		t.Fatalf("QueueStats = %d queued, %d failed, %v; want 1 and 1", queued, failed, err)
	}
	rows, err := st.ClaimQueued(ctx, now, time.Minute, 10, 10)
	if err != nil || len(rows) != 1 || rows[0].Inbox != ds[1].Inbox || rows[0].Attempts != 0 {
		t.Fatalf("claimed %+v, %v; want %s with no attempt", rows, err, ds[1].Inbox)
	}

	queueFanOut(t, st, c, "https://coppice.example/a/2", storage.FamilyUnknown, now)
	ds = takeAll(t, st, now, 10)
	if len(ds) != 3 {
		t.Fatalf("took %d, want 3", len(ds))
	}
	// The post is deleted while its fan-out is in flight.
	if err := st.InTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.WithdrawAnnounces(ctx, c.ID, "https://coppice.example/a/2/object", 0, now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, st, "fan_outs"); n != 1 {
		t.Fatalf("%d fan-outs after the withdrawal, want 1 (the first post's)", n)
	}
	if err := st.RecordOutcomes(ctx, []storage.Outcome{{FanOut: &ds[0], NextAttemptAt: now, Error: "HTTP 503"}}); err != nil {
		t.Fatal(err)
	}
	if queued, _, _ := st.QueueStats(ctx); queued != 1 {
		t.Errorf("%d queued after the outcome of a dropped fan-out, want still 1", queued)
	}
}

// Fan-outs of one community taken together share the reading of its
// followers' inboxes, each still skipping the inboxes its own activity
// already has a row for.
func TestFanOutsTakenTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for i := range 4 {
		follower(t, st, c, fmt.Sprintf("h%d.example", i), "u", false)
	}
	now := time.Unix(1000, 0)
	first := queueFanOut(t, st, c, "https://coppice.example/a/1", storage.FamilyUnknown, now)
	second := queueFanOut(t, st, c, "https://coppice.example/a/2", storage.FamilyUnknown, now)
	if err := st.InTx(ctx, func(tx *storage.Tx) error {
		return tx.EnqueueDelivery(ctx, second, "https://h2.example/users/u/inbox", now)
	}); err != nil {
		t.Fatal(err)
	}
	by := map[int64][]string{}
	for _, d := range takeAll(t, st, now, 100) {
		by[d.ActivityID] = append(by[d.ActivityID], d.Inbox)
	}
	if len(by[first]) != 4 || len(by[second]) != 3 || slices.Contains(by[second], "https://h2.example/users/u/inbox") {
		t.Errorf("taken: first %q, second %q; want all four, then the three without a row", by[first], by[second])
	}
}

// A take fills its room: a fan-out that does not fit in what is left
// gives what fits, and a later take resumes it.
func TestTakeFillsItsRoom(t *testing.T) {
	t.Parallel()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for i := range 10 {
		follower(t, st, c, fmt.Sprintf("h%d.example", i), "u", false)
	}
	now := time.Unix(1000, 0)
	first := queueFanOut(t, st, c, "https://coppice.example/a/1", storage.FamilyUnknown, now)
	second := queueFanOut(t, st, c, "https://coppice.example/a/2", storage.FamilyUnknown, now)
	taken := take(t, st, now, 15)
	by := map[int64]int{}
	for _, d := range taken.Deliveries {
		by[d.ActivityID]++
	}
	if by[first] != 10 || by[second] != 5 || len(taken.More) != 1 {
		t.Fatalf("took %v, more %v; want 10 of the first, 5 of the second, and the second to resume", by, taken.More)
	}
	rest := take(t, st, now, 15, taken.More...)
	if len(rest.Deliveries) != 5 || rest.Deliveries[0].ActivityID != second || len(rest.More) != 0 {
		t.Errorf("resumed: %d deliveries, more %v; want the second's 5 others", len(rest.Deliveries), rest.More)
	}
	if n := rowCount(t, st, "deliveries"); n != 0 {
		t.Errorf("%d rows queued, want none", n)
	}
}

// Several processes take fan-outs at once (PostgreSQL): each inbox of
// each fan-out is taken by exactly one of them, as a delivery or a row,
// and a process's lease keeps the others off its fan-outs.
func TestProcessesTakeEachFanOutOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Unix(1000, 0)
	stores, fanOuts := processesWithFanOuts(t, now)
	st := stores[0]
	var wg sync.WaitGroup
	taken := make([][]storage.Delivery, len(stores))
	errs := make([]error, len(stores))
	for i, p := range stores {
		wg.Go(func() {
			var more []storage.FanOutRef
			for {
				got, err := p.TakeFanOuts(ctx, now, time.Minute, 25, more...)
				if err != nil || (len(got.Deliveries) == 0 && len(got.More) == 0) {
					errs[i] = err
					return
				}
				taken[i] = append(taken[i], got.Deliveries...)
				more = got.More
			}
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for i := range stores {
		if errs[i] != nil {
			t.Errorf("process %d: %v", i, errs[i])
		}
		for _, d := range taken[i] {
			seen[fmt.Sprint(d.ActivityID, " ", d.Inbox)]++
		}
	}
	rows, err := st.ClaimQueued(ctx, now, time.Minute, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range rows {
		seen[fmt.Sprint(d.ActivityID, " ", d.Inbox)]++
	}
	if len(seen) != fanOuts*10 {
		t.Errorf("%d deliveries taken or queued, want %d", len(seen), fanOuts*10)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s taken %d times, want once", k, n)
		}
	}
}

// A fan-out is named by its id and its activity's: SQLite gives a deleted
// last row's id to the next row, and the progress and rows of a withdrawn
// fan-out's deliveries must not touch the fan-out that took its id.
func TestFanOutProgressNamesItsActivity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for i := range 3 {
		follower(t, st, c, fmt.Sprintf("h%d.example", i), "u", false)
	}
	now := time.Unix(1000, 0)
	queueFanOut(t, st, c, "https://coppice.example/a/1", storage.FamilyUnknown, now)
	ds := takeAll(t, st, now, 10)
	// Withdrawn while its deliveries are out; the next post's fan-out is
	// queued, with the same id on SQLite.
	if err := st.InTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.WithdrawAnnounces(ctx, c.ID, "https://coppice.example/a/1/object", 0, now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	next := queueFanOut(t, st, c, "https://coppice.example/a/2", storage.FamilyUnknown, now)
	// What a worker still holding the first writes, under the id the
	// second may have taken.
	stale := storage.FanOutRef{ID: ds[0].FanOut, ActivityID: ds[0].ActivityID}
	outs := []storage.Outcome{{FanOut: &ds[0], NextAttemptAt: now, Error: "HTTP 503"}, {FanOut: &ds[1], Done: true}}
	if err := st.RecordOutcomes(ctx, outs, storage.FanOutProgress{FanOutRef: stale, Done: true}); err != nil {
		t.Fatal(err)
	}
	if n := rowCount(t, st, "fan_outs"); n != 1 {
		t.Fatalf("%d fan-outs, want the second post's", n)
	}
	if n := rowCount(t, st, "deliveries"); n != 0 {
		t.Errorf("%d rows written for the withdrawn fan-out, want 0", n)
	}
	by := map[int64]int{}
	for _, d := range takeAll(t, st, now, 10) {
		by[d.ActivityID]++
	}
	if by[next] != 3 {
		t.Errorf("took %v, want the second post's 3 inboxes", by)
	}
}
