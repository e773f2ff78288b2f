package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// On PostgreSQL a worker is told of the deliveries another process queues
// (LISTEN/NOTIFY): they go out long before its next poll.
func TestAnotherProcessesDeliveriesWakeTheWorker(t *testing.T) {
	if storagetest.Engine() != "postgres" {
		t.Skip("several processes share a database on PostgreSQL only: run with COPPICE_TEST_DB=postgres (make test does)")
	}
	t.Parallel()
	ctx := context.Background()
	db := storagetest.DB(t)
	open := func() *storage.Store {
		st, err := storage.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	delivering, queuing := open(), open()
	c := storagetest.Community(t, delivering, "seeds")
	fx := newFixtureOn(t, delivering, c)
	other := newFixtureOn(t, queuing, c)
	host := fx.newFakeHost(t, nil, nil)
	const poll = 9 * time.Second
	fx.start(t, Options{Poll: poll})
	// Let the worker make its first claim and start listening.
	time.Sleep(500 * time.Millisecond)
	queuedAt := time.Now()
	other.enqueue(t, other.activity(t, "https://coppice.example/a/1"), queuedAt, host.inbox("/inbox"))
	got := host.got.wait(t, "the delivery queued by another process", poll-2*time.Second, func(rs []request) bool { return len(rs) == 1 })
	t.Logf("delivered %v after another process queued it (poll %v)", got[0].at.Sub(queuedAt), poll)
}
