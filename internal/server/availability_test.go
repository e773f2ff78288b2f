package server_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/federation/fedtest"
)

// TestRAT07SlowBodiesHoldNoSlots (issue 12, item 5): a request whose body
// never arrives does not hold one of the inbox's in-flight slots: with a
// single slot, a genuine peer still gets 202 while it hangs.
func TestRAT07SlowBodiesHoldNoSlots(t *testing.T) {
	ti := newInstance(t, true, func(o *federation.Options) { o.InboxConcurrency = 1 })
	peer := fedtest.New(t)
	alice := peer.NewActor("alice")
	addr := strings.TrimPrefix(ti.URL, "http://")
	for range 3 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		// Headers announcing 100000 bytes, then one byte: the rest never comes.
		if _, err := fmt.Fprintf(conn, "POST /inbox HTTP/1.1\r\nHost: %s\r\nContent-Type: application/activity+json\r\nContent-Length: 100000\r\n\r\n{", addr); err != nil {
			t.Fatal(err)
		}
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), alice.Follow(ti.actor("seedbreeders"))); code != http.StatusAccepted {
		t.Errorf("Follow while slow bodies hang: %d %s, want 202", code, body)
	}
}

// TestRAT08HangingKeyHostHoldsFewSlots (issue 12, item 5): POSTs whose key
// ids are on a host that never answers hold at most KeyFetchesPerHost
// inbox slots; the others get 503 with Retry-After at once, and a genuine
// peer is served.
func TestRAT08HangingKeyHostHoldsFewSlots(t *testing.T) {
	const slots = federation.KeyFetchesPerHost + 1
	ti := newInstance(t, true, func(o *federation.Options) { o.InboxConcurrency = slots })
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.29"))
	alice, m := peer.NewActor("alice"), peer.NewActor("m")
	var fetches atomic.Int32
	arrived := make(chan struct{}, 64)
	release := make(chan struct{})
	hang := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		arrived <- struct{}{}
		<-release
		http.NotFound(w, r)
	}))
	ln, err := net.Listen("tcp", "127.0.0.30:0")
	if err != nil {
		t.Fatal(err)
	}
	hang.Listener.Close()
	hang.Listener = ln
	hang.Start()
	t.Cleanup(func() { close(release); hang.Close() })

	const attackers = slots + 3
	answers := make(chan *http.Response, attackers)
	for i := range attackers {
		go func() {
			s := stranger(m, fmt.Sprintf("%s/users/x%d#main-key", hang.URL, i))
			req, err := s.SignedRequest(ti.inbox("seedbreeders"), m.Follow(ti.actor("seedbreeders")), time.Now())
			if err != nil {
				answers <- nil
				return
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				answers <- nil
				return
			}
			res.Body.Close()
			answers <- res
		}()
	}
	// KeyFetchesPerHost fetches hang; every other attacker is answered.
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for range federation.KeyFetchesPerHost {
		select {
		case <-arrived:
		case <-deadline.C:
			t.Fatalf("the hanging key host got %d fetches, want %d", fetches.Load(), federation.KeyFetchesPerHost)
		}
	}
	for range attackers - federation.KeyFetchesPerHost {
		select {
		case res := <-answers:
			if res == nil || res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
				t.Errorf("POST beyond the key host's fetches: %v, want 503 with Retry-After", res)
			}
		case <-deadline.C:
			t.Fatalf("attackers beyond %d hang too (%d key fetches under way)", federation.KeyFetchesPerHost, fetches.Load())
		}
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), alice.Follow(ti.actor("seedbreeders"))); code != http.StatusAccepted {
		t.Errorf("Follow from a genuine peer meanwhile: %d %s, want 202", code, body)
	}
	if n := fetches.Load(); n != federation.KeyFetchesPerHost {
		t.Errorf("key fetches to the hanging host = %d, want %d", n, federation.KeyFetchesPerHost)
	}
}
