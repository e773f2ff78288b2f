package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// BenchmarkClaimDeliveries measures one claim of 512 rows (16 per host)
// against queues of growing size on 100 hosts (SECURITY.md FLT-13: the
// cost of a claim must not grow with the queue):
//
//   - due: every queued row is due, as after a long outage or a restart
//     with a backlog;
//   - waiting: 10,000 rows are due and the rest wait for a retry.
//
// Each claim is released (untimed) before the next, so every iteration
// claims from the same queue.
func BenchmarkClaimDeliveries(b *testing.B) {
	for _, size := range []int{10_000, 100_000, 1_000_000} {
		for _, shape := range []string{"due", "waiting"} {
			b.Run(fmt.Sprintf("queue=%d/%s", size, shape), func(b *testing.B) {
				benchmarkClaim(b, size, shape == "due")
			})
		}
	}
}

func benchmarkClaim(b *testing.B, size int, allDue bool) {
	ctx := context.Background()
	st := storagetest.Open(b)
	c := storagetest.Community(b, st, "seeds")
	now := time.Unix(1_000_000, 0)
	const hosts, perActivity = 100, 10_000
	ds := make([]storage.Delivery, 0, perActivity)
	for first := 0; first < size; first += perActivity {
		var id int64
		err := st.InTx(ctx, func(tx *storage.Tx) error {
			var err error
			id, err = tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: fmt.Sprintf("https://coppice.example/a/%d", first),
				CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		ds = ds[:0]
		for i := first; i < min(first+perActivity, size); i++ {
			next := now
			if !allDue && i >= 10_000 {
				next = now.Add(time.Hour)
			}
			ds = append(ds, storage.Delivery{ActivityID: id, Inbox: fmt.Sprintf("https://h%d.example/users/%d/inbox", i%hosts, i),
				NextAttemptAt: next, QueuedAt: now})
		}
		if err := st.SeedDeliveries(ctx, ds); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		claimed, err := st.ClaimDeliveries(ctx, now, time.Minute, 16, 512)
		if err != nil || len(claimed) != 512 {
			b.Fatalf("claimed %d, %v", len(claimed), err)
		}
		b.StopTimer()
		if err := st.ReleaseClaims(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
