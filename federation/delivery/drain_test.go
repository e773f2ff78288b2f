package delivery

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// blockingHost answers POSTs only when release is closed (202), or never
// when it is nil; arrived gets the path of every request as it comes in.
func blockingHost(t *testing.T, arrived chan<- string, release <-chan struct{}) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body: only then does the server notice the client
		// hanging up, which ends r.Context().
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case arrived <- r.Host + r.URL.Path:
		default:
			t.Errorf("unexpected request to %s%s", r.Host, r.URL.Path)
		}
		select {
		case <-release:
			w.WriteHeader(http.StatusAccepted)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStopFinishesTheRequestsInFlight(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	arrived, release := make(chan string, 1), make(chan struct{})
	host := blockingHost(t, arrived, release)
	id := fx.activity(t, "https://coppice.example/a/1")
	fx.enqueue(t, id, time.Now(), host.URL+"/inbox")

	r := fx.start(t, Options{})
	r.w.Wake()
	<-arrived
	r.cancel() // SIGTERM while the request is in flight
	close(release)
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if got := r.w.Stats().Delivered; got != 1 {
		t.Errorf("delivered = %d, want the request in flight finished and recorded", got)
	}
	if queued, failed := fx.queue(t); queued != 0 || failed != 0 {
		t.Errorf("queue = %d queued, %d failed; want it empty", queued, failed)
	}
	hours, err := fx.st.DeliveryHours(context.Background(), time.Now().Add(-time.Hour))
	if err != nil || len(hours) != 1 || hours[0].Outcome != storage.OutcomeDelivered || hours[0].Count != 1 {
		t.Errorf("DeliveryHours = %+v, %v; want one delivered", hours, err)
	}
	if h := r.w.Health(); h.Running {
		t.Errorf("Health after stop = %+v, want not running", h)
	}
}

func TestStopCancelsRequestsAfterDrainAndReleasesClaims(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	arrived := make(chan string, 2)
	a, b := blockingHost(t, arrived, nil), blockingHost(t, arrived, nil)
	id := fx.activity(t, "https://coppice.example/a/1")
	fx.enqueue(t, id, time.Now(), a.URL+"/inbox", b.URL+"/inbox")

	// One slot: one row is sent, the other waits claimed in the backlog.
	r := fx.start(t, Options{Workers: 1, Drain: time.Millisecond, Schedule: []time.Duration{time.Hour}})
	r.w.Wake()
	sent := "http://" + <-arrived
	if h := r.w.Health(); !h.Running || h.LastTurn.IsZero() {
		t.Errorf("Health while delivering = %+v, want running with a last turn", h)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	ds, err := fx.st.ClaimDeliveries(context.Background(), time.Now(), time.Minute, 16, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Inbox == sent || ds[0].Attempts != 0 {
		t.Fatalf("claimable after stop = %+v, want only the row never sent (not %s), released", ds, sent)
	}
	if got := r.w.Stats().Retried; got != 1 {
		t.Errorf("retried = %d, want the cancelled request retried later", got)
	}
	if queued, _ := fx.queue(t); queued != 2 {
		t.Errorf("queued = %d, want both rows still queued", queued)
	}
}

// A worker stopped before it began (a server shut down as it starts)
// claimed nothing, and Run returns nil as for any other stop.
func TestRunStoppedBeforeItBeganIsAStop(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := New(Options{Store: fx.st, Client: &http.Client{Timeout: time.Second}, Log: slog.New(fx.logs)})
	if err := w.Run(ctx); err != nil {
		t.Fatalf("Run with its context already ended = %v, want nil", err)
	}
}
