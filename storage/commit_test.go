package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func openForCommit(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "commit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func recordActivity(ctx context.Context, tx *Tx, iri string) error {
	_, err := tx.RecordInboxActivity(ctx, InboxActivity{IRI: iri, Type: "Like", ActorIRI: "https://remote.example/users/a", ReceivedAt: time.Unix(1, 0)})
	return err
}

func hasActivity(t *testing.T, st *Store, iri string) bool {
	t.Helper()
	ok, err := st.HasInboxActivity(context.Background(), iri)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// batchOf runs reqs as one batch of the committer, as if they had all been
// waiting at once.
func batchOf(st *Store, reqs ...*txRequest) {
	rest := reqs[1:]
	st.commitBatch(reqs[0], func() *txRequest {
		if len(rest) == 0 {
			return nil
		}
		r := rest[0]
		rest = rest[1:]
		return r
	})
}

func request(fn func(tx *Tx) error) *txRequest {
	return &txRequest{ctx: context.Background(), fn: fn, done: make(chan struct{})}
}

func TestGroupCommitFailedCallRollsBackOnlyItsOwnWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openForCommit(t)
	refused := errors.New("refused by the rules")
	ok1 := request(func(tx *Tx) error {
		if err := tx.IndexDocument(ctx, SearchPost, 1, 1, "Kept", "scion"); err != nil {
			return err
		}
		return recordActivity(ctx, tx, "https://remote.example/a")
	})
	bad := request(func(tx *Tx) error {
		if err := tx.IndexDocument(ctx, SearchPost, 2, 1, "Undone", "scion"); err != nil {
			return err
		}
		if err := recordActivity(ctx, tx, "https://remote.example/b"); err != nil {
			return err
		}
		return refused
	})
	var answeredEarly bool
	ok2 := request(func(tx *Tx) error {
		select {
		case <-ok1.done:
			answeredEarly = true
		default:
		}
		return recordActivity(ctx, tx, "https://remote.example/c")
	})
	batchOf(st, ok1, bad, ok2)
	if answeredEarly {
		t.Error("the first call of a batch was answered before the batch committed")
	}
	if ok1.err != nil || ok2.err != nil || !errors.Is(bad.err, refused) {
		t.Errorf("errors of a batch (ok, refused, ok): %v, %v, %v; want nil, %v, nil", ok1.err, bad.err, ok2.err, refused)
	}
	for iri, want := range map[string]bool{"https://remote.example/a": true, "https://remote.example/b": false, "https://remote.example/c": true} {
		if got := hasActivity(t, st, iri); got != want {
			t.Errorf("activity %s stored after the batch: %v, want %v", iri, got, want)
		}
	}
	hits, err := st.Search(ctx, "scion", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Ref != 1 {
		t.Errorf("Search(scion) after a batch where only the first call's document should stay: %+v, want post 1 alone", hits)
	}
	for i, r := range []*txRequest{ok1, bad, ok2} {
		select {
		case <-r.done:
		default:
			t.Errorf("call %d of the batch was never answered", i)
		}
	}
}

func TestGroupCommitPanicStaysWithItsCaller(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openForCommit(t)
	ok := request(func(tx *Tx) error { return recordActivity(ctx, tx, "https://remote.example/kept") })
	boom := request(func(tx *Tx) error {
		if err := recordActivity(ctx, tx, "https://remote.example/undone"); err != nil {
			return err
		}
		panic("programmer error")
	})
	batchOf(st, boom, ok)
	if boom.panicked != "programmer error" || ok.err != nil || ok.panicked != nil {
		t.Errorf("batch (panics, ok): panicked %v and %v/%v, want the panic with the first only", boom.panicked, ok.err, ok.panicked)
	}
	if !hasActivity(t, st, "https://remote.example/kept") || hasActivity(t, st, "https://remote.example/undone") {
		t.Error("after a batch whose first call panicked: want the other call's row kept and the panicking call's row undone")
	}
}

// TestInTxConcurrentCallsKeepTheirOwnOutcome: many concurrent InTx calls,
// every third failing after its write; whatever batches the committer
// makes, exactly the successful calls' writes are kept and each caller
// gets its own outcome.
func TestInTxConcurrentCallsKeepTheirOwnOutcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openForCommit(t)
	refused := errors.New("refused")
	const n = 90
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.InTx(ctx, func(tx *Tx) error {
				if err := recordActivity(ctx, tx, fmt.Sprintf("https://remote.example/%d", i)); err != nil {
					return err
				}
				if i%3 == 0 {
					return refused
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		wantErr := i%3 == 0
		if got := errors.Is(errs[i], refused); got != wantErr || (!wantErr && errs[i] != nil) {
			t.Errorf("InTx call %d: %v, want refused %v", i, errs[i], wantErr)
		}
		if got := hasActivity(t, st, fmt.Sprintf("https://remote.example/%d", i)); got == wantErr {
			t.Errorf("activity %d stored: %v, want %v", i, got, !wantErr)
		}
	}
}

func TestInTxAfterCloseFails(t *testing.T) {
	t.Parallel()
	st := openForCommit(t)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	err := st.InTx(context.Background(), func(tx *Tx) error { return nil })
	if !errors.Is(err, errClosed) {
		t.Errorf("InTx after Close: %v, want %v", err, errClosed)
	}
}

// A background call (the delivery queue's writes) made while foreground
// calls wait runs after them, even when it was made first.
func TestBackgroundCallsWaitForForegroundCalls(t *testing.T) {
	st := openForCommit(t)
	st.commits.maxWait = time.Hour
	ctx := context.Background()
	gate := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_ = st.InTx(ctx, func(*Tx) error { <-gate; return nil }) // holds the committer
	})
	time.Sleep(20 * time.Millisecond)
	var mu sync.Mutex
	var order []string
	ran := func(name string) func(*Tx) error {
		return func(*Tx) error { mu.Lock(); order = append(order, name); mu.Unlock(); return nil }
	}
	wg.Go(func() { _ = st.inBackground(ctx, ran("background")) })
	time.Sleep(20 * time.Millisecond)
	for i := range 3 {
		wg.Go(func() { _ = st.InTx(ctx, ran(fmt.Sprint("foreground", i))) })
	}
	time.Sleep(20 * time.Millisecond)
	close(gate)
	wg.Wait()
	if len(order) != 4 || order[3] != "background" {
		t.Errorf("calls ran in the order %v, want the background call last", order)
	}
}

// A steady stream of foreground calls delays a background call by about
// backgroundMaxWait, not for as long as the stream lasts.
func TestBackgroundCallsAreNotStarved(t *testing.T) {
	st := openForCommit(t)
	st.commits.maxWait = 20 * time.Millisecond
	ctx := context.Background()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 100 { // more than a batch takes: some always wait
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = st.InTx(ctx, func(*Tx) error { time.Sleep(100 * time.Microsecond); return nil })
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- st.inBackground(ctx, func(*Tx) error { return nil }) }()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Error("a background call waited 5 s behind a stream of foreground calls")
	}
	close(stop)
	wg.Wait()
}
