package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// Two processes write into one community at once (PostgreSQL), each call
// looking an activity up before it adds it and counting its author's
// contribution, as the inbox does: their group-commit batches touch the
// same index pages and rows, so PostgreSQL cannot serialize many of them. Every call must still succeed (the write gate:
// a batch that lost runs again alone) and every row be there once.
func TestProcessesWritingOneCommunityLoseNothing(t *testing.T) {
	var retries atomic.Int64
	stores := processes(t, 2, storage.WithRetryObserver(func() { retries.Add(1) }))
	t.Parallel()
	ctx := context.Background()
	c := storagetest.Community(t, stores[0], "seeds")
	const writers, each = 24, 20
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*writers*each)
	for p, st := range stores {
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					iri := fmt.Sprintf("https://coppice.example/a/%d-%02d-%02d", p, w, i)
					errs <- st.InTx(ctx, func(tx *storage.Tx) error {
						if _, err := tx.OutboxActivityID(ctx, iri); !errors.Is(err, storage.ErrNotFound) {
							return fmt.Errorf("look up %s before adding it: %v", iri, err)
						}
						if _, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: iri, CommunityID: c.ID, Type: "Announce",
							KeyID: "k", Body: []byte("{}"), CreatedAt: time.Unix(1000, 0)}); err != nil {
							return err
						}
						// A few authors post through both processes: their
						// contribution counts are the same rows.
						return tx.RecordContribution(ctx, c.ID, fmt.Sprintf("https://remote.example/users/%d", w%4), "thread", iri, time.Unix(1000, 0))
					})
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			if failed == 0 {
				t.Errorf("first failure: %v", err)
			}
			failed++
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d writes failed", failed, len(stores)*writers*each)
	}
	if retries.Load() == 0 {
		t.Fatal("no batch had to run again: the load did not make the processes clash, so the gate was not tested")
	}
	t.Logf("%d batches ran again", retries.Load())
	for p := range stores {
		for w := range writers {
			for i := range each {
				iri := fmt.Sprintf("https://coppice.example/a/%d-%02d-%02d", p, w, i)
				if _, err := stores[1-p].OutboxActivityByIRI(ctx, iri); err != nil {
					t.Fatalf("%s written by process %d, read by the other: %v", iri, p, err)
				}
			}
		}
	}
}
