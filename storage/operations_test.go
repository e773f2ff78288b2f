package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// queue enqueues one activity for every follower of c and returns the
// claimed deliveries.
func queueAndClaim(t *testing.T, st *storage.Store, c storage.Community, now time.Time) []storage.Delivery {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.example/a/" + now.Format("150405.000"), CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now})
		if err != nil {
			return err
		}
		_, err = tx.EnqueueFollowers(ctx, id, c.ID, nil, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := st.ClaimDeliveries(ctx, now, time.Minute, 16, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestDeliveryOutcomesAreCountedPerHour(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for _, u := range []string{"a", "b", "c", "d"} {
		follower(t, st, c, u+".example", u, false)
	}
	h1 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ds := queueAndClaim(t, st, c, h1)
	if len(ds) != 4 {
		t.Fatalf("claimed %d deliveries, want 4", len(ds))
	}
	outs := []storage.Outcome{
		{ID: ds[0].ID, Done: true, Kind: storage.OutcomeDelivered, At: h1.Add(5 * time.Minute)},
		{ID: ds[1].ID, Done: true, Kind: storage.OutcomeDelivered, At: h1.Add(59 * time.Minute)},
		{ID: ds[2].ID, NextAttemptAt: h1.Add(2 * time.Hour), Kind: storage.OutcomeRetried, At: h1.Add(61 * time.Minute)},
		{ID: ds[3].ID, Failed: true, Kind: storage.OutcomeFailed, At: h1.Add(30 * time.Minute)},
	}
	if err := st.RecordOutcomes(ctx, outs); err != nil {
		t.Fatal(err)
	}
	// An outcome without a kind (older callers) is recorded but not counted.
	if err := st.RecordOutcomes(ctx, []storage.Outcome{{ID: ds[2].ID, NextAttemptAt: h1.Add(3 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	got, err := st.DeliveryHours(ctx, h1.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.DeliveryHour{
		{Hour: h1, Outcome: storage.OutcomeDelivered, Count: 2},
		{Hour: h1, Outcome: storage.OutcomeFailed, Count: 1},
		{Hour: h1.Add(time.Hour), Outcome: storage.OutcomeRetried, Count: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("DeliveryHours = %+v, want %+v", got, want)
	}
	for i := range want {
		if !got[i].Hour.Equal(want[i].Hour) || got[i].Outcome != want[i].Outcome || got[i].Count != want[i].Count {
			t.Errorf("DeliveryHours[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	later, err := st.DeliveryHours(ctx, h1.Add(time.Hour))
	if err != nil || len(later) != 1 {
		t.Errorf("DeliveryHours(since the second hour) = %+v, %v, want the one retry", later, err)
	}
}

func TestQueueStateAndDepthSamples(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for _, u := range []string{"a", "b", "c"} {
		follower(t, st, c, u+".example", u, false)
	}
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	ds := queueAndClaim(t, st, c, now)
	// One given up, one due again 10 minutes from now, one still claimed.
	if err := st.RecordOutcomes(ctx, []storage.Outcome{
		{ID: ds[0].ID, Failed: true},
		{ID: ds[1].ID, NextAttemptAt: now.Add(10 * time.Minute)},
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordHostResults(ctx, []storage.HostResult{{Host: ds[0].Host, At: now, Error: "HTTP 500"}}); err != nil {
		t.Fatal(err)
	}
	q, err := st.QueueState(ctx, now.Add(30*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// At now+30m the claim (1 minute) has lapsed, so the third row waits
	// since now, the second since now+10m.
	if q.Queued != 2 || q.Failed != 1 || !q.OldestDue.Equal(now) || q.FailingHosts != 1 || q.UnreachableHosts != 0 {
		t.Errorf("QueueState = %+v, want 2 queued, 1 failed, oldest due %v, 1 failing host", q, now)
	}
	q, err = st.QueueState(ctx, now.Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !q.OldestDue.IsZero() {
		t.Errorf("QueueState while the due row is claimed: oldest due %v, want none", q.OldestDue)
	}

	if err := st.SampleQueueDepth(ctx, now.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordOutcomes(ctx, []storage.Outcome{{ID: ds[1].ID, Done: true}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SampleQueueDepth(ctx, now.Add(50*time.Minute)); err != nil { // same hour: the peak stays
		t.Fatal(err)
	}
	if err := st.SampleQueueDepth(ctx, now.Add(70*time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := st.QueueDepthHours(ctx, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Depth != 2 || !got[0].Hour.Equal(now) || got[1].Depth != 1 || !got[1].Hour.Equal(now.Add(time.Hour)) {
		t.Errorf("QueueDepthHours = %+v, want peak 2 at %v, then 1", got, now)
	}
	// Thirty-one days on, the old samples are pruned.
	if err := st.SampleQueueDepth(ctx, now.Add(31*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err = st.QueueDepthHours(ctx, now.Add(-time.Hour))
	if err != nil || len(got) != 1 {
		t.Errorf("QueueDepthHours after 31 days = %+v, %v, want only the newest sample", got, err)
	}
}

func TestPostsAndNewMembersPerDay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	join := func(user string, at time.Time, state string) {
		t.Helper()
		a := storage.Actor{IRI: "https://m.example/users/" + user, Type: "Person", Host: "m.example",
			Inbox: "https://m.example/users/" + user + "/inbox", Raw: []byte("{}"), FetchedAt: at, ExpiresAt: at}
		if err := st.UpsertActor(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := st.InTx(ctx, func(tx *storage.Tx) error {
			_, err := tx.UpsertFollow(ctx, storage.Follow{CommunityID: c.ID, ActorIRI: a.IRI, FollowIRI: a.IRI + "#f", State: state, CreatedAt: at})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	join("a", day.Add(1*time.Hour), storage.FollowAccepted)
	join("b", day.Add(23*time.Hour), storage.FollowAccepted)
	join("c", day.Add(25*time.Hour), storage.FollowAccepted)
	join("d", day.Add(26*time.Hour), storage.FollowPending)
	join("e", day.Add(-time.Hour), storage.FollowAccepted) // before the range
	got, err := st.NewMembersPerDay(ctx, c.ID, day, day.Add(3*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got[0].Day.Equal(day) || got[0].Count != 2 || !got[1].Day.Equal(day.Add(24*time.Hour)) || got[1].Count != 1 {
		t.Errorf("NewMembersPerDay = %+v, want 2 on %v and 1 the day after (pending and earlier follows not counted)", got, day)
	}
	posts, err := st.PostsPerDay(ctx, c.ID, day, day.Add(3*24*time.Hour))
	if err != nil || len(posts) != 0 {
		t.Errorf("PostsPerDay of a community without posts = %+v, %v, want none", posts, err)
	}

	var deleted int64
	if err := st.InTx(ctx, func(tx *storage.Tx) error {
		th, err := tx.CreateThread(ctx, storage.Thread{CommunityID: c.ID, RootIRI: "https://m.example/p/0", Title: "t", AuthorIRI: "https://m.example/users/a", CreatedAt: day, LastActivityAt: day})
		if err != nil {
			return err
		}
		for i, at := range []time.Time{day.Add(time.Hour), day.Add(2 * time.Hour), day.Add(50 * time.Hour), day.Add(51 * time.Hour), day.Add(-time.Minute)} {
			p, err := tx.CreatePost(ctx, storage.Post{IRI: fmt.Sprintf("https://m.example/p/%d", i), ThreadID: th.ID, CommunityID: c.ID, Type: "Note",
				AuthorIRI: "https://m.example/users/a", Published: at, Raw: []byte("{}")})
			if err != nil {
				return err
			}
			deleted = p.ID
		}
		_, err = tx.DeletePost(ctx, deleted-1, day.Add(52*time.Hour)) // the second post of day 3
		return err
	}); err != nil {
		t.Fatal(err)
	}
	posts, err = st.PostsPerDay(ctx, c.ID, day, day.Add(3*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(posts) != 2 || !posts[0].Day.Equal(day) || posts[0].Count != 2 || !posts[1].Day.Equal(day.Add(48*time.Hour)) || posts[1].Count != 1 {
		t.Errorf("PostsPerDay = %+v, want 2 on %v and 1 two days later (deleted and earlier posts not counted)", posts, day)
	}
}
