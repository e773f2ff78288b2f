package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
)

// TestGRP15OneActorFloodingIsLimited (issue 12, item 8): 100 posts at once
// from one member: the first ActorBurst are accepted and announced, the
// rest get 429 with Retry-After and are neither stored nor announced.
func TestGRP15OneActorFloodingIsLimited(t *testing.T) {
	burst := federation.DefaultRate().ActorBurst
	// No refill while the test runs, however slow the machine.
	ti := newInstance(t, true, func(o *federation.Options) { o.Rate = federation.Rate{ActorBurst: burst, ActorEvery: time.Hour} })
	ctx := context.Background()
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.25"))
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice) // the Follow is the first activity
	accepted, limited := 0, 0
	for i := range 100 {
		req, err := alice.SignedRequest(ti.inbox("seedbreeders"), note(alice, fmt.Sprint(i), ti.actor("seedbreeders"), "", "flood", true, true), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		switch res.StatusCode {
		case http.StatusAccepted:
			accepted++
		case http.StatusTooManyRequests:
			limited++
			if res.Header.Get("Retry-After") == "" {
				t.Errorf("429 without Retry-After")
			}
		default:
			t.Errorf("post %d: %d", i, res.StatusCode)
		}
	}
	if accepted > burst || limited < 100-burst {
		t.Errorf("100 posts at once: %d accepted, %d limited; want at most %d accepted", accepted, limited, burst)
	}
	c := mustCommunity(t, ti, "seedbreeders")
	threads, err := ti.store.CountThreads(ctx, c.ID)
	if err != nil || threads != accepted {
		t.Errorf("threads = %d (%v), want %d (only the accepted posts)", threads, err, accepted)
	}
}

// TestRAT06OneHostFloodingIsLimited (issue 12, item 8): many actors of one
// host together get 429 past the host's budget; another host is not held
// back.
func TestRAT06OneHostFloodingIsLimited(t *testing.T) {
	ti := newInstance(t, true, func(o *federation.Options) { o.Rate = federation.Rate{HostBurst: 10, HostEvery: time.Hour} })
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.26"))
	other := fedtest.New(t, fedtest.OnAddress("127.0.0.27"))
	limited := 0
	for i := range 20 {
		a := peer.NewActor(fmt.Sprint("u", i))
		if code, _ := a.Post(t, ti.inbox("seedbreeders"), a.Follow(ti.actor("seedbreeders"))); code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 10 {
		t.Errorf("20 Follows from 20 actors of one host with a host budget of 10: %d limited, want 10", limited)
	}
	b := other.NewActor("b")
	if code, body := b.Post(t, ti.inbox("seedbreeders"), b.Follow(ti.actor("seedbreeders"))); code != http.StatusAccepted {
		t.Errorf("Follow from another host: %d %s, want 202", code, body)
	}
}

// TestCON06UnknownTypesAreNotKeptWhole (issue 12, item 8): activities of a
// type we do not act on are recorded by id and type, without a body larger
// than MaxRecordedBody.
func TestCON06UnknownTypesAreNotKeptWhole(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.28"))
	m := peer.NewActor("m")
	filler := strings.Repeat("x", 1000_000)
	for i := range 5 {
		id := fmt.Sprintf("%s/odd/%d", m.IRI, i)
		body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "Wobble", "actor": m.IRI, "content": filler})
		if code, resp := m.Post(t, ti.sharedInbox(), body); code != http.StatusAccepted {
			t.Fatalf("unknown type: %d %s", code, resp)
		}
		a, err := ti.store.InboxActivityByIRI(ctx, id)
		if err != nil || a.Type != "Wobble" || len(a.Raw) > community.MaxRecordedBody {
			t.Errorf("recorded %s as type %q with %d bytes (%v); want it recorded, at most %d bytes", id, a.Type, len(a.Raw), err, community.MaxRecordedBody)
		}
	}
}
