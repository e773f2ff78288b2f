package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// Failed logins counted by one process limit the next guess in another.
func TestLoginFailuresAreSharedByProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.DB(t)
	var stores [2]*storage.Store
	for i := range stores {
		st, err := storage.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores[i] = st
	}
	const window = 15 * time.Minute
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	keys := []string{"ip 192.0.2.7", "ip 192.0.2.7 user root"}
	for i := range 5 {
		if err := stores[i%2].RecordLoginFailure(ctx, keys, now.Add(time.Duration(i)*time.Minute), window); err != nil {
			t.Fatal(err)
		}
	}
	at := now.Add(5 * time.Minute)
	for i, st := range stores {
		wait, err := st.LoginWait(ctx, keys, at, 5, window)
		if err != nil {
			t.Fatal(err)
		}
		if wait != 10*time.Minute {
			t.Errorf("process %d: wait %v after five failures in two processes, want 10m (until the first leaves the window)", i, wait)
		}
	}
	if wait, err := stores[1].LoginWait(ctx, []string{"ip 198.51.100.1"}, at, 5, window); err != nil || wait != 0 {
		t.Errorf("another address waits %v, %v; want 0", wait, err)
	}
	if err := stores[0].ClearLoginFailures(ctx, keys[1]); err != nil {
		t.Fatal(err)
	}
	if wait, err := stores[1].LoginWait(ctx, keys[1:], at, 5, window); err != nil || wait != 0 {
		t.Errorf("after a good login the address and username wait %v, %v; want 0", wait, err)
	}
	// Failures out of the window are forgotten when the next is counted.
	later := now.Add(window + 10*time.Minute)
	if err := stores[1].RecordLoginFailure(ctx, keys[:1], later, window); err != nil {
		t.Fatal(err)
	}
	if wait, err := stores[0].LoginWait(ctx, keys[:1], later, 1, window); err != nil || wait != window {
		t.Errorf("one fresh failure with a limit of one: wait %v, %v; want %v", wait, err, window)
	}
	if wait, err := stores[0].LoginWait(ctx, keys[:1], later, 2, window); err != nil || wait != 0 {
		t.Errorf("the old failures still count: wait %v, %v; want 0", wait, err)
	}
}
