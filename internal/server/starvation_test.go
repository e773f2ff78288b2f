package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/server"
	"github.com/coppice-dev/coppice/storage"
)

// hangingHosts are hosts on distinct loopback addresses that accept TCP
// connections and never answer.
type hangingHosts struct {
	urls []string

	mu sync.Mutex
	// mu guards conns, tried and changed.
	conns   []net.Conn
	tried   map[string]bool // hosts that got a connection
	changed chan struct{}   // closed and replaced on every connection
}

// newHangingHosts starts n hanging hosts. Their connections are closed
// when the test ends, before the instance stops.
func newHangingHosts(t testing.TB, n int) *hangingHosts {
	t.Helper()
	h := &hangingHosts{tried: make(map[string]bool), changed: make(chan struct{})}
	var lns []net.Listener
	var accepting sync.WaitGroup
	t.Cleanup(func() {
		for _, ln := range lns {
			ln.Close()
		}
		accepting.Wait()
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, c := range h.conns {
			c.Close()
		}
	})
	for i := range n {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.%d.%d:0", 3+i/250, 1+i%250))
		if err != nil {
			t.Fatalf("listen on a loopback address: %v", err)
		}
		lns = append(lns, ln)
		addr := ln.Addr().String()
		h.urls = append(h.urls, "http://"+addr)
		accepting.Go(func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				h.mu.Lock()
				h.conns = append(h.conns, c)
				h.tried[addr] = true
				close(h.changed)
				h.changed = make(chan struct{})
				h.mu.Unlock()
			}
		})
	}
	return h
}

// waitTried waits until n hosts got a connection.
func (h *hangingHosts) waitTried(t testing.TB, n int) {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		got, changed := len(h.tried), h.changed
		h.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("waited %v for %d hanging hosts to be tried; %d were", wait, n, got)
		}
	}
}

// followAll makes an accepted follower of seedbreeders on each host, with
// the host's shared inbox.
func followAll(t testing.TB, ti *testInstance, bases []string) {
	t.Helper()
	ctx := context.Background()
	c := mustCommunity(t, ti, "seedbreeders")
	now := time.Now()
	for _, base := range bases {
		iri := base + "/users/m"
		if err := ti.store.UpsertActor(ctx, storage.Actor{
			IRI: iri, Type: "Person", Host: storage.HostOf(iri), PreferredUsername: "m",
			Inbox: iri + "/inbox", SharedInbox: base + "/inbox", Raw: []byte(`{}`),
			FetchedAt: now, ExpiresAt: now.Add(24 * time.Hour),
		}); err != nil {
			t.Fatal(err)
		}
		if err := ti.store.InTx(ctx, func(tx *storage.Tx) error {
			_, err := tx.UpsertFollow(ctx, storage.Follow{
				CommunityID: c.ID, ActorIRI: iri, FollowIRI: iri + "/follows/1", State: storage.FollowAccepted, CreatedAt: now,
			})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFLT17HangingFollowersDoNotStarveDelivery (issue 12, item 7): while
// a post is announced to 300 followers whose shared inboxes sit on hosts
// that accept TCP and never answer, a genuine follower on a healthy host
// still gets its Accept and the announce of its own post. The hanging
// requests outlive the wait (the client gives up on them after 20s), so
// neither arrives through their timeouts: they arrive because no host
// keeps the delivery slots. Every hanging host is tried too.
func TestFLT17HangingFollowersDoNotStarveDelivery(t *testing.T) {
	ti := newInstance(t, true, func(o *server.Options) {
		o.ClientTimeout, o.DeliveryTimeout = time.Minute, time.Minute
	})
	const hanging = 300
	hang := newHangingHosts(t, hanging)
	followAll(t, ti, hang.urls)

	bobs := fedtest.New(t, fedtest.OnAddress("127.0.0.31"))
	bob := bobs.NewActor("bob")
	member(t, ti, bobs, bob)
	if code, body := bob.Post(t, ti.inbox("seedbreeders"), note(bob, "1", ti.actor("seedbreeders"), "", "Seed swap on Saturday", true, true)); code != http.StatusAccepted {
		t.Fatalf("post by bob: %d %s", code, body)
	}
	// The fan-out to the hanging hosts is under way.
	hang.waitTried(t, 100)

	alices := fedtest.New(t, fedtest.OnAddress("127.0.0.32"))
	alice := alices.NewActor("alice")
	member(t, ti, alices, alice)
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ti.actor("seedbreeders"), "", "Which beans for clay soil?", true, true)); code != http.StatusAccepted {
		t.Fatalf("post by alice: %d %s", code, body)
	}
	alices.Wait(t, 1, wait, announced(alice.IRI+"/notes/1/activity"))
	hang.waitTried(t, hanging)
}

// triedCount is how many hosts got a connection.
func (h *hangingHosts) triedCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.tried)
}
