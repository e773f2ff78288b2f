package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/server"
)

// testClock is the real clock, or a frozen one when base is set, moved
// forward by a test.
type testClock struct {
	base   time.Time
	offset atomic.Int64
}

func (c *testClock) Now() time.Time {
	if c.base.IsZero() {
		return time.Now().Add(time.Duration(c.offset.Load()))
	}
	return c.base.Add(time.Duration(c.offset.Load()))
}

func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

func withClock(c *testClock) func(*server.Options) {
	return func(o *server.Options) { o.FederationNow = c.Now }
}

// stranger returns a copy of a signing under keyID, a key id nobody owns.
func stranger(a *fedtest.Actor, keyID string) *fedtest.Actor {
	s := *a
	s.KeyID = keyID
	return &s
}

// TestRAT04KeyFetchBudgetPerHost (issue 12, item 6): POSTs with ever new
// key ids on one host cost at most the host's fetch budget of GETs; the
// rest are answered 429 with Retry-After without a request, and other
// hosts keep their own budget.
func TestRAT04KeyFetchBudgetPerHost(t *testing.T) {
	// A frozen clock: no fetch is earned back while the test runs.
	ti := newInstance(t, true, withClock(&testClock{base: time.Now()}))
	evil := fedtest.New(t, fedtest.OnAddress("127.0.0.20"))
	good := fedtest.New(t, fedtest.OnAddress("127.0.0.21"))
	m, alice := evil.NewActor("m"), good.NewActor("alice")
	const posts = 60
	limited := 0
	for i := range posts {
		s := stranger(m, fmt.Sprintf("%s/users/nobody%d/main-key", evil.URL, i))
		req, err := s.SignedRequest(ti.inbox("seedbreeders"), m.Follow(ti.actor("seedbreeders")), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests {
			limited++
			if res.Header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		}
	}
	gets := 0
	for i := range posts {
		gets += evil.Gets(fmt.Sprintf("/users/nobody%d/main-key", i))
	}
	if gets > federation.KeyFetchBurst {
		t.Errorf("%d POSTs with new key ids caused %d key fetches, want at most %d", posts, gets, federation.KeyFetchBurst)
	}
	if limited < posts-federation.KeyFetchBurst {
		t.Errorf("%d answers were 429, want at least %d", limited, posts-federation.KeyFetchBurst)
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), alice.Follow(ti.actor("seedbreeders"))); code != http.StatusAccepted {
		t.Errorf("Follow from another host meanwhile: %d %s, want 202", code, body)
	}
}

// TestRAT05FailedKeyFetchRemembered (issue 12, item 6): a key id that could
// not be fetched is not fetched again for a while (401 without a request),
// nor is any key of a host that did not answer (503 without a request);
// after the expiry both are tried again.
func TestRAT05FailedKeyFetchRemembered(t *testing.T) {
	clock := &testClock{}
	ti := newInstance(t, true, withClock(clock))
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.22"))
	down := fedtest.New(t, fedtest.OnAddress("127.0.0.23"))
	m, d := peer.NewActor("m"), down.NewActor("d")
	ghost := stranger(m, peer.URL+"/users/ghost/main-key")
	for i := range 20 {
		if code, _ := ghost.Post(t, ti.inbox("seedbreeders"), m.Follow(ti.actor("seedbreeders"))); code != http.StatusUnauthorized {
			t.Errorf("POST %d with a key id that is 404: %d, want 401", i, code)
		}
	}
	if n := peer.Gets("/users/ghost/main-key"); n != 1 {
		t.Errorf("20 POSTs with one missing key id caused %d fetches, want 1", n)
	}
	down.Down(true)
	for i := range 10 {
		s := stranger(d, fmt.Sprintf("%s/users/d%d/main-key", down.URL, i))
		if code, _ := s.Post(t, ti.inbox("seedbreeders"), d.Follow(ti.actor("seedbreeders"))); code != http.StatusServiceUnavailable {
			t.Errorf("POST %d with a key on a host that is down: %d, want 503", i, code)
		}
	}
	fetched := 0
	for i := range 10 {
		fetched += down.Gets(fmt.Sprintf("/users/d%d/main-key", i))
	}
	if fetched != 1 {
		t.Errorf("10 POSTs with keys on a host that is down caused %d fetches, want 1", fetched)
	}

	clock.Advance(federation.FailedKeyTTL + time.Second)
	down.Down(false)
	if code, body := d.Post(t, ti.inbox("seedbreeders"), d.Follow(ti.actor("seedbreeders"))); code != http.StatusAccepted {
		t.Errorf("Follow once the host is back and the memory expired: %d %s, want 202", code, body)
	}
	ghost.Post(t, ti.inbox("seedbreeders"), m.Follow(ti.actor("seedbreeders")))
	if n := peer.Gets("/users/ghost/main-key"); n != 2 {
		t.Errorf("missing key id fetched %d times after the expiry, want 2", n)
	}
}

// TestSIG22KeyFetchIsNoOracle (issue 12, item 6): a 401 says nothing about
// what our key fetch found: not the peer's status, not the document's
// type, not an address a name resolved to.
func TestSIG22KeyFetchIsNoOracle(t *testing.T) {
	ti := newInstance(t, true)
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.24"))
	m := peer.NewActor("m")
	peer.Serve("/notes/1", []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"`+peer.URL+`/notes/1","type":"Note","content":"x"}`))
	for _, keyID := range []string{
		peer.URL + "/users/ghost/main-key", // 404
		peer.URL + "/notes/1#main-key",     // a Note
		"http://127.0.0.1:1/users/x#main-key",
	} {
		code, body := stranger(m, keyID).Post(t, ti.inbox("seedbreeders"), m.Follow(ti.actor("seedbreeders")))
		if code != http.StatusUnauthorized && code != http.StatusServiceUnavailable {
			t.Errorf("keyId %s: %d %s, want 401 or 503", keyID, code, body)
		}
		for _, leak := range []string{"404", "Not Found", "Note", "127.0.0.1", "status", "refused", "type", "fetch"} {
			if strings.Contains(body, leak) {
				t.Errorf("keyId %s: answer %q tells %q", keyID, body, leak)
			}
		}
	}
}
