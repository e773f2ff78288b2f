package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// follower stores a remote actor on host and makes it an accepted follower.
func follower(t *testing.T, st *storage.Store, c storage.Community, host, user string, shared bool) {
	t.Helper()
	ctx := context.Background()
	a := storage.Actor{IRI: "https://" + host + "/users/" + user, Type: "Person", Host: host,
		Inbox: "https://" + host + "/users/" + user + "/inbox", Raw: []byte("{}"), FetchedAt: time.Unix(1, 0), ExpiresAt: time.Unix(2, 0)}
	if shared {
		a.SharedInbox = "https://" + host + "/inbox"
	}
	if err := st.UpsertActor(ctx, a); err != nil {
		t.Fatal(err)
	}
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.UpsertFollow(ctx, storage.Follow{CommunityID: c.ID, ActorIRI: a.IRI, FollowIRI: a.IRI + "#follow", State: storage.FollowAccepted, CreatedAt: time.Unix(1, 0)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEnqueueFollowersCollapsesSharedInboxes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	for i := 0; i < 5; i++ {
		follower(t, st, c, "shared.example", fmt.Sprint("u", i), true)
	}
	follower(t, st, c, "solo.example", "a", false)
	follower(t, st, c, "solo.example", "b", false)
	follower(t, st, c, "sender.example", "s", true)
	now := time.Unix(100, 0)
	var n int
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.example/a/1", CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now})
		if err != nil {
			return err
		}
		n, err = tx.EnqueueFollowers(ctx, id, c.ID, []string{"https://sender.example/inbox"}, now)
		if err != nil {
			return err
		}
		// Enqueuing again changes nothing.
		m, err := tx.EnqueueFollowers(ctx, id, c.ID, nil, now)
		if m != 1 { // only the skipped sender is new
			return fmt.Errorf("second EnqueueFollowers queued %d, want 1 (the sender, not skipped this time)", m)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("EnqueueFollowers queued %d, want 3 (one shared inbox, two personal inboxes)", n)
	}
	queued, _, err := st.QueueStats(ctx)
	if err != nil || queued != 4 {
		t.Errorf("queued = %d, %v; want 4", queued, err)
	}
}

func TestClaimDeliveriesLimitsPerHost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storagetest.Open(t)
	c := storagetest.Community(t, st, "seeds")
	now := time.Unix(1000, 0)
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		for i := 0; i < 40; i++ {
			id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: fmt.Sprint("https://coppice.example/a/", i), CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now})
			if err != nil {
				return err
			}
			if err := tx.EnqueueDelivery(ctx, id, "https://busy.example/inbox", now); err != nil {
				return err
			}
			if i < 3 {
				if err := tx.EnqueueDelivery(ctx, id, "https://quiet.example/inbox", now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	first, err := st.ClaimDeliveries(ctx, now, time.Minute, 16, 100)
	if err != nil {
		t.Fatal(err)
	}
	perHost := map[string]int{}
	for _, d := range first {
		perHost[d.Host]++
	}
	if perHost["busy.example"] != 16 || perHost["quiet.example"] != 3 {
		t.Errorf("first claim per host = %v, want busy 16 and quiet 3", perHost)
	}
	again, err := st.ClaimDeliveries(ctx, now, time.Minute, 16, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("second claim with 16 in flight got %d rows, want 0", len(again))
	}
	// Finishing five busy deliveries frees five slots on that host.
	var outs []storage.Outcome
	for _, d := range first {
		if d.Host == "busy.example" && len(outs) < 5 {
			outs = append(outs, storage.Outcome{ID: d.ID, Done: true})
		}
	}
	if err := st.RecordOutcomes(ctx, outs); err != nil {
		t.Fatal(err)
	}
	third, err := st.ClaimDeliveries(ctx, now, time.Minute, 16, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(third) != 5 {
		t.Errorf("claim after 5 finished got %d, want 5", len(third))
	}
	// After the lease expires everything unfinished can be claimed again.
	if err := st.ReleaseClaims(ctx); err != nil {
		t.Fatal(err)
	}
	fourth, err := st.ClaimDeliveries(ctx, now, time.Minute, 100, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(fourth) != 38 {
		t.Errorf("claim after release got %d, want 38 (43 queued, 5 done)", len(fourth))
	}
}
