package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fetch"
)

// TestFET13DeliveryToRefusedHostFails: a delivery queued to a host the
// federation policy refuses (an Accept or a forwarded report to whatever
// inbox an actor named) is never sent: it fails at once, without counting
// against the host's health, while other hosts get theirs.
func TestFET13DeliveryToRefusedHostFails(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		client func(fetch.Options) Client
	}{
		{"fetch.Poster", func(o fetch.Options) Client { return fetch.NewPoster(o) }},
		{"fetch.NewClient", func(o fetch.Options) Client { return fetch.NewClient(o) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t)
			good := fx.newFakeHost(t, nil, nil)
			bad := fx.newFakeHost(t, nil, nil)
			client := tt.client(fetch.Options{AllowPrivate: true, Timeout: 5 * time.Second,
				Policy: func(_ context.Context, host string) (bool, error) { return host != bad.name, nil }})
			refusedOnce(t, fx, client, good, bad)
		})
	}
}

func refusedOnce(t *testing.T, fx *fixture, client Client, good, bad *fakeHost) {
	r := fx.start(t, Options{Client: client, Schedule: tinySchedule(), Poll: 20 * time.Millisecond})
	fx.enqueue(t, fx.activity(t, "https://coppice.example/a/1"), time.Now(), bad.inbox("/users/x/inbox"), good.inbox("/inbox"))
	r.w.Wake()
	good.got.wait(t, "the allowed delivery", 5*time.Second, atLeast[request](1))
	fx.logs.j.wait(t, "the refused delivery", 5*time.Second, func(es []logEntry) bool {
		for _, e := range es {
			if e.msg == "delivery refused" && e.attrs["host"] == bad.name {
				return true
			}
		}
		return false
	})
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if n := bad.count("/users/x/inbox"); n != 0 {
		t.Errorf("refused host got %d requests, want 0", n)
	}
	if queued, failed := fx.queue(t); queued != 0 || failed != 1 {
		t.Errorf("queue = %d queued, %d failed; want 0, 1", queued, failed)
	}
}
