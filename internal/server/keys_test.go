package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/storage"
)

// updateOfSelf returns an Update{Person} of a by itself whose publicKey id
// is keyID (a key id of someone else, in the attack).
func updateOfSelf(t *testing.T, a *fedtest.Actor, n, keyID string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(a.ActorJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	pk, ok := doc["publicKey"].(map[string]any)
	if !ok {
		t.Fatalf("actor document has publicKey %T, want one object", doc["publicKey"])
	}
	pk["id"] = keyID
	delete(doc, "@context")
	b, err := json.Marshal(map[string]any{
		"@context": []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":       a.IRI + "#updates/" + n, "type": "Update", "actor": a.IRI, "object": doc,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSIG20KeyIDTakeover (issue 12, item 1): an actor who publishes, in an
// Update of itself, another actor's key id on another host with its own
// key neither takes that key id over (its requests signed under it fail,
// even past a block of its own host) nor locks the victim out.
func TestSIG20KeyIDTakeover(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	victims := fedtest.New(t, fedtest.OnAddress("127.0.0.16"))
	evil := fedtest.New(t, fedtest.OnAddress("127.0.0.17"))
	evil.RotateKey(t) // a key of its own, not one of the shared test pool
	alice, mallory := victims.NewActor("alice"), evil.NewActor("mallory")
	member(t, ti, victims, alice)
	member(t, ti, evil, mallory)
	ours := ti.actor("seedbreeders")

	if code, body := mallory.Post(t, ti.sharedInbox(), updateOfSelf(t, mallory, "1", alice.KeyID)); code != http.StatusAccepted && code != http.StatusForbidden {
		t.Fatalf("Update{Person} naming alice's key id: %d %s", code, body)
	}
	if err := ti.svc.SetDomainPolicy(ctx, "127.0.0.17", "block"); err != nil {
		t.Fatal(err)
	}
	forged := *mallory
	forged.KeyID = alice.KeyID
	if code, body := forged.Post(t, ti.inbox("seedbreeders"), note(mallory, "1", ours, "", "signed under alice's key id", true, true)); code == http.StatusAccepted {
		t.Errorf("mallory's post signed with his key under alice's key id: %d %s, want a refusal", code, body)
	}
	if _, err := ti.store.PostByIRI(ctx, mallory.IRI+"/notes/1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the forged post was stored (%v)", err)
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ours, "", "first", true, true)); code != http.StatusAccepted {
		t.Errorf("alice's genuine post: %d %s, want 202", code, body)
	}
	// Again, and alice posts again within the minute in which we may
	// refetch her key only once.
	if code, body := mallory.Post(t, ti.sharedInbox(), updateOfSelf(t, mallory, "2", alice.KeyID)); code == http.StatusAccepted {
		t.Logf("second Update{Person} by a blocked host accepted: %s", body)
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "2", ours, "", "second", true, true)); code != http.StatusAccepted {
		t.Errorf("alice's second genuine post: %d %s, want 202", code, body)
	}
	a, err := ti.store.ActorByKeyID(ctx, alice.KeyID)
	if err != nil || a.IRI != alice.IRI {
		t.Errorf("ActorByKeyID(alice's key id) = %s, %v; want alice", a.IRI, err)
	}
	if m, err := ti.store.ActorByIRI(ctx, mallory.IRI); err != nil || m.KeyID != mallory.KeyID {
		t.Errorf("mallory's key id = %q, %v; want his own %s", m.KeyID, err, mallory.KeyID)
	}
}

// TestSIG21ActorNotStoredBeforeVerification (issue 12, item 4): a request
// whose signature does not verify with the key its keyId names leaves no
// actor row behind.
func TestSIG21ActorNotStoredBeforeVerification(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	victims := fedtest.New(t, fedtest.OnAddress("127.0.0.18"))
	evil := fedtest.New(t, fedtest.OnAddress("127.0.0.19"))
	evil.RotateKey(t)
	bob, mallory := victims.NewActor("bob"), evil.NewActor("mallory")
	before := counts(t, ti.store)
	forged := *mallory
	forged.KeyID = bob.KeyID
	if code, body := forged.Post(t, ti.inbox("seedbreeders"), bob.Follow(ti.actor("seedbreeders"))); code != http.StatusUnauthorized {
		t.Errorf("Follow as bob signed with another key: %d %s, want 401", code, body)
	}
	if _, err := ti.store.ActorByIRI(ctx, bob.IRI); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("bob was stored although no request of his verified (%v)", err)
	}
	if after := counts(t, ti.store); after["actors"] != before["actors"] {
		t.Errorf("actors %d → %d, want unchanged", before["actors"], after["actors"])
	}
}

// TestSIG14KeyIDRedirectedElsewhere: a key id whose URL answers 302 with
// an actor document on another host, or with another id, verifies
// nothing: 401, and neither the key nor the document's actor is stored.
func TestSIG14KeyIDRedirectedElsewhere(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	victims := fedtest.New(t, fedtest.OnAddress("127.0.0.61"))
	evil := fedtest.New(t, fedtest.OnAddress("127.0.0.62"))
	evil.RotateKey(t)
	alice := victims.NewActor("alice")
	ours := ti.actor("seedbreeders")
	keyPath := func(a *fedtest.Actor) string { u, _ := url.Parse(a.KeyID); return u.Path }
	for _, tc := range []struct {
		name, target string
		other        bool // the target is another actor of the evil host
	}{
		{name: "to an actor on another host", target: alice.IRI},
		{name: "to another host's key document", target: alice.KeyID},
		{name: "to another actor of the same host", other: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mallory := evil.NewActor("mallory-" + strings.ReplaceAll(tc.name, " ", "-"))
			target := tc.target
			if tc.other {
				target = evil.NewActor("other-" + mallory.Name).IRI
			}
			evil.Redirect(keyPath(mallory), target)
			before := stored(t, ti.store)
			if code, body := mallory.Post(t, ti.inbox("seedbreeders"), mallory.Follow(ours)); code != http.StatusUnauthorized {
				t.Errorf("Follow signed under a key id that redirects %s: %d %s, want 401", tc.name, code, body)
			}
			if got := evil.Gets(keyPath(mallory)); got == 0 {
				t.Error("the key id was never fetched: the refusal is not the redirect's")
			}
			if after := stored(t, ti.store); !reflect.DeepEqual(before, after) {
				t.Errorf("rows %v after the refusal, %v before", after, before)
			}
			if a, err := ti.store.ActorByKeyID(ctx, mallory.KeyID); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("the redirected key id is stored, for %s (%v)", a.IRI, err)
			}
			if a, err := ti.store.ActorByIRI(ctx, target); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("the document redirected to is stored: %s key %s (%v)", a.IRI, a.KeyID, err)
			}
		})
	}
	// The same request without the redirect is accepted: the setup is sound.
	honest := evil.NewActor("honest")
	if code, body := honest.Post(t, ti.inbox("seedbreeders"), honest.Follow(ours)); code != http.StatusAccepted {
		t.Errorf("Follow under a key id that does not redirect: %d %s, want 202", code, body)
	}
}
