package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// BenchmarkClaimDeliveries measures one claim (and release) against a
// queue of 100,000 due deliveries on 100 hosts.
func BenchmarkClaimDeliveries(b *testing.B) {
	ctx := context.Background()
	st := storagetest.Open(b)
	c := storagetest.Community(b, st, "seeds")
	now := time.Unix(1_000_000, 0)
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: "https://coppice.example/a/1", CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now})
		if err != nil {
			return err
		}
		for i := 0; i < 100_000; i++ {
			if err := tx.EnqueueDelivery(ctx, id, fmt.Sprintf("https://h%d.example/users/%d/inbox", i%100, i), now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ds, err := st.ClaimDeliveries(ctx, now, time.Minute, 16, 512)
		if err != nil || len(ds) != 512 {
			b.Fatalf("claimed %d, %v", len(ds), err)
		}
		b.StopTimer()
		if err := st.ReleaseClaims(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
