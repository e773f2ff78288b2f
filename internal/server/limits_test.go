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
	"github.com/coppice-dev/coppice/internal/server"
)

// TestGRP15OneActorFloodingIsLimited (issue 12, item 8): 100 posts at once
// from one member: the first ActorBurst are accepted and announced, the
// rest get 429 with Retry-After and are neither stored nor announced.
func TestGRP15OneActorFloodingIsLimited(t *testing.T) {
	burst := federation.DefaultRate().ActorBurst
	// No refill while the test runs, however slow the machine.
	ti := newInstance(t, true, func(o *server.Options) { o.Rate = federation.Rate{ActorBurst: burst, ActorEvery: time.Hour} })
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
	ti := newInstance(t, true, func(o *server.Options) { o.Rate = federation.Rate{HostBurst: 10, HostEvery: time.Hour} })
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

// TestGRP17FlagFloodMakesFewReports (issue 12, item 8): 30 Flags sent at
// once by one actor no longer make 30 reports. Flags naming only what the
// reporter has open reports on make none; beyond the actor's Flag budget
// the rest get 429 with Retry-After and are neither queued nor forwarded.
func TestGRP17FlagFloodMakesFewReports(t *testing.T) {
	flood := func(t *testing.T, rate federation.Rate, object func(i int, post string) []any) (reports, limited int) {
		t.Helper()
		// No refill while the test runs, however slow the machine.
		ti := newInstance(t, true, func(o *server.Options) { o.Rate = rate })
		peer := fedtest.New(t, fedtest.OnAddress("127.0.0.33"))
		alice := peer.NewActor("alice")
		member(t, ti, peer, alice)
		ours := ti.actor("seedbreeders")
		if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ours, "", "Bean seeds to swap", true, true)); code != http.StatusAccepted {
			t.Fatalf("post: %d %s", code, body)
		}
		m := fedtest.New(t, fedtest.OnAddress("127.0.0.34")).NewActor("m")
		for i := range 30 {
			flag, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
				"id": fmt.Sprintf("%s/flags/%d", m.IRI, i), "type": "Flag", "actor": m.IRI,
				"object": object(i, alice.IRI+"/notes/1"), "content": "spam", "to": ours})
			req, err := m.SignedRequest(ti.inbox("seedbreeders"), flag, time.Now())
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
			case http.StatusTooManyRequests:
				limited++
				if res.Header.Get("Retry-After") == "" {
					t.Errorf("Flag %d: 429 without Retry-After", i)
				}
			default:
				t.Errorf("Flag %d: %d, want 202 or 429", i, res.StatusCode)
			}
		}
		all, err := ti.svc.Reports(context.Background(), "seedbreeders")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			if r.ReporterIRI == m.IRI {
				reports++
			}
		}
		return reports, limited
	}

	t.Run("30 Flags of one post make one report", func(t *testing.T) {
		reports, limited := flood(t, federation.Rate{ActorBurst: 100, FlagBurst: 100, FlagEvery: time.Hour},
			func(_ int, post string) []any { return []any{post} })
		if reports != 1 || limited != 0 {
			t.Errorf("30 Flags of one post: %d reports, %d limited; want 1 report, none limited", reports, limited)
		}
	})
	t.Run("30 Flags of 30 posts stop at the Flag budget", func(t *testing.T) {
		burst := federation.DefaultRate().FlagBurst
		reports, limited := flood(t, federation.Rate{FlagBurst: burst, FlagEvery: time.Hour},
			func(i int, post string) []any { return []any{post, fmt.Sprintf("%s-%d", post, i)} })
		if reports != burst || limited != 30-burst {
			t.Errorf("30 Flags of different posts: %d reports, %d limited; want %d reports, %d limited", reports, limited, burst, 30-burst)
		}
	})
}
