package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// queueDeliveries queues n deliveries to each of hosts.
func queueDeliveries(t *testing.T, st *storage.Store, c storage.Community, hosts []string, n int, now time.Time) {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *storage.Tx) error {
		for i := 0; i < n; i++ {
			id, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: fmt.Sprint("https://coppice.example/a/", i), CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: []byte("{}"), CreatedAt: now})
			if err != nil {
				return err
			}
			for _, h := range hosts {
				if err := tx.EnqueueDelivery(ctx, id, "https://"+h+"/inbox", now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// processes opens n Stores on one fresh database, as n processes sharing
// it would; several processes share a database on PostgreSQL only, so the
// test is skipped on SQLite.
func processes(t *testing.T, n int, opts ...storage.Option) []*storage.Store {
	t.Helper()
	if storagetest.Engine() != "postgres" {
		t.Skip("several processes share a database on PostgreSQL only: run with COPPICE_TEST_DB=postgres (make test does)")
	}
	db := storagetest.DB(t)
	var stores []*storage.Store
	for range n {
		st, err := storage.Open(context.Background(), db, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	return stores
}

// Several processes claim from one queue at once (PostgreSQL): no row is
// leased twice and no host has more than perHost in flight across them.
func TestProcessesNeverClaimARowTwice(t *testing.T) {
	stores := processes(t, 4)
	t.Parallel()
	ctx := context.Background()
	c := storagetest.Community(t, stores[0], "seeds")
	hosts := []string{"a.example", "b.example", "c.example", "d.example", "e.example"}
	now := time.Unix(1000, 0)
	queueDeliveries(t, stores[0], c, hosts, 60, now)

	const perHost = 7
	var mu sync.Mutex
	leased := map[int64]int{}
	perHostSeen := map[string]int{}
	var wg sync.WaitGroup
	for _, st := range stores {
		for range 3 { // several claimers per process too
			wg.Go(func() {
				for range 5 {
					ds, err := st.ClaimDeliveries(ctx, now, time.Hour, perHost, 50)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					for _, d := range ds {
						leased[d.ID]++
						perHostSeen[d.Host]++
					}
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for id, n := range leased {
		if n > 1 {
			t.Errorf("delivery %d leased %d times", id, n)
		}
	}
	// Nothing was finished, so what was leased is what is in flight.
	for _, h := range hosts {
		if perHostSeen[h] != perHost {
			t.Errorf("%s: %d in flight across the processes, want exactly %d", h, perHostSeen[h], perHost)
		}
	}
}

// A process that dies leaves its leases behind; another process takes
// the rows over once the leases run out, while a live process keeps its
// own by renewing them; releasing frees only one's own rows.
func TestLeasesOfADeadProcessRunOut(t *testing.T) {
	stores := processes(t, 3)
	t.Parallel()
	ctx := context.Background()
	dead, live, other := stores[0], stores[1], stores[2]
	c := storagetest.Community(t, dead, "seeds")
	now := time.Unix(1000, 0)
	queueDeliveries(t, dead, c, []string{"a.example", "b.example"}, 4, now)
	lease := 40 * time.Second
	got, err := dead.ClaimDeliveries(ctx, now, lease, 4, 4)
	if err != nil || len(got) != 4 {
		t.Fatalf("dead process claimed %d, %v; want 4", len(got), err)
	}
	mine, err := live.ClaimDeliveries(ctx, now, lease, 4, 4)
	if err != nil || len(mine) != 4 {
		t.Fatalf("live process claimed %d, %v; want 4", len(mine), err)
	}
	// Another process releasing its claims frees none of theirs.
	if err := other.ReleaseClaims(ctx); err != nil {
		t.Fatal(err)
	}
	if ds, err := other.ClaimDeliveries(ctx, now.Add(time.Second), lease, 4, 100); err != nil || len(ds) != 0 {
		t.Fatalf("claimed %d rows others hold, %v", len(ds), err)
	}
	// The live process renews; the dead one cannot.
	renewAt := now.Add(30 * time.Second)
	if err := live.RenewClaims(ctx, renewAt, lease); err != nil {
		t.Fatal(err)
	}
	after := now.Add(lease + time.Second)
	taken, err := other.ClaimDeliveries(ctx, after, lease, 4, 100)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[int64]bool{}
	for _, d := range got {
		ids[d.ID] = true
	}
	if len(taken) != len(got) {
		t.Errorf("after the lease ran out another process took %d rows, want the dead process's %d", len(taken), len(got))
	}
	for _, d := range taken {
		if !ids[d.ID] {
			t.Errorf("took delivery %d, which the live process renewed", d.ID)
		}
	}
}

// TestProcessesStoreOneContextAtOnce: processes that store activities with
// the same new JSON-LD context at the same moment (PostgreSQL; the loser
// of the context's insert runs its batch again) all succeed, and every
// process reads every body back as written.
func TestProcessesStoreOneContextAtOnce(t *testing.T) {
	stores := processes(t, 3)
	ctx := context.Background()
	c := storagetest.Community(t, stores[0], "orchard")
	const rounds = 10
	body := func(round, p int) []byte {
		return []byte(fmt.Sprintf(`{"@context":["https://www.w3.org/ns/activitystreams",{"round":"https://coppice.example/ns/%d#"}],"id":"https://coppice.example/a/%d-%d","type":"Announce"}`, round, round, p))
	}
	ids := make([][]int64, rounds)
	for round := range rounds {
		ids[round] = make([]int64, len(stores))
		var wg sync.WaitGroup
		errs := make([]error, len(stores))
		for p, st := range stores {
			wg.Go(func() {
				errs[p] = st.InTx(ctx, func(tx *storage.Tx) error {
					var err error
					ids[round][p], err = tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: fmt.Sprintf("https://coppice.example/a/%d-%d", round, p),
						CommunityID: c.ID, Type: "Announce", KeyID: "k", Body: body(round, p), CreatedAt: time.Unix(1, 0)})
					return err
				})
			})
		}
		wg.Wait()
		for p, err := range errs {
			if err != nil {
				t.Fatalf("round %d, process %d: %v", round, p, err)
			}
		}
	}
	for round := range rounds {
		for p := range stores {
			for reader, st := range stores {
				a, err := st.OutboxActivityByID(ctx, ids[round][p])
				if err != nil || string(a.Body) != string(body(round, p)) {
					t.Fatalf("process %d reads round %d of process %d: %s, %v", reader, round, p, a.Body, err)
				}
			}
		}
	}
}
