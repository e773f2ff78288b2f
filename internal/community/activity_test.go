package community_test

import (
	"context"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

func TestActivityCountsFillEveryDayAndHour(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, clk := newService(t)
	now := clk.now()
	c := storagetest.Community(t, st, "seeds")
	a, err := svc.CommunityActivity(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	today := now.UTC().Truncate(24 * time.Hour)
	if len(a.Posts) != community.ActivityDays || len(a.NewMembers) != community.ActivityDays ||
		!a.Posts[community.ActivityDays-1].At.Equal(today) || !a.Posts[0].At.Equal(today.Add(-(community.ActivityDays-1)*24*time.Hour)) {
		t.Fatalf("CommunityActivity spans %d days from %v to %v, want %d ending %v", len(a.Posts), a.Posts[0].At, a.Posts[len(a.Posts)-1].At, community.ActivityDays, today)
	}

	// One delivery outcome two hours ago, one queue sample now.
	err = st.InTx(ctx, func(tx *storage.Tx) error {
		id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.example/a/1", CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now})
		if err != nil {
			return err
		}
		return tx.EnqueueDelivery(ctx, id, "https://m.example/inbox", now)
	})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := st.ClaimDeliveries(ctx, now, time.Minute, 16, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	if err := st.RecordOutcomes(ctx, []storage.Outcome{{ID: ds[0].ID, NextAttemptAt: now.Add(time.Hour), Kind: storage.OutcomeRetried, At: now.Add(-2 * time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SampleQueueDepth(ctx, now); err != nil {
		t.Fatal(err)
	}
	d, err := svc.DeliveryActivity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := community.DeliveryHours - 1
	if len(d.Retried) != community.DeliveryHours || d.Retried[last-2].Value != 1 || d.Delivered[last-2].Value != 0 {
		t.Errorf("Retried = %v, want 1 two hours ago", d.Retried[last-3:])
	}
	if q := d.QueueDepth[last]; !q.Known || q.Value != 1 {
		t.Errorf("queue depth this hour = %+v, want the sample of 1", q)
	}
	if q := d.QueueDepth[last-1]; q.Known {
		t.Errorf("queue depth an hour ago = %+v, want unknown (no sample)", q)
	}
}
