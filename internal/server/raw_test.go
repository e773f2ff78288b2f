package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/coppice-dev/coppice/federation/fedtest"
)

// TestAPostIsKeptRawOnce: the raw log keeps what a peer sent byte for
// byte; a post that came embedded in its Create has no second, re-encoded
// copy of its own, while a post named by IRI keeps the JSON it was
// fetched as (the activity holds only its IRI).
func TestAPostIsKeptRawOnce(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)

	embedded := note(alice, "1", ti.actor("seedbreeders"), "", "Seed swap on Saturday", true, true)
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), embedded); code != 202 {
		t.Fatalf("Create: %d %s", code, body)
	}
	p, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/1")
	if err != nil || !strings.Contains(p.Content, "Seed swap") {
		t.Fatalf("post: %q, %v", p.Content, err)
	}
	if len(p.Raw) != 0 {
		t.Errorf("the embedded post keeps a raw copy of its own: %s", p.Raw)
	}
	a, err := ti.store.InboxActivityByIRI(ctx, alice.IRI+"/notes/1/activity")
	if err != nil || !bytes.Equal(a.Raw, embedded) {
		t.Errorf("raw log: %s, %v; want the Create as sent", a.Raw, err)
	}

	byIRI := note(alice, "2", ti.actor("seedbreeders"), "", "Swap the late tomatoes", true, true)
	object := noteObject(t, byIRI)
	peer.Serve("/users/alice/notes/2", object)
	var create map[string]any
	if err := json.Unmarshal(byIRI, &create); err != nil {
		t.Fatal(err)
	}
	create["object"] = alice.IRI + "/notes/2"
	body, _ := json.Marshal(create)
	if code, resp := alice.Post(t, ti.inbox("seedbreeders"), body); code != 202 {
		t.Fatalf("Create by IRI: %d %s", code, resp)
	}
	p, err = ti.store.PostByIRI(ctx, alice.IRI+"/notes/2")
	if err != nil || !bytes.Equal(p.Raw, object) {
		t.Errorf("post named by IRI keeps %s (%v); want the JSON fetched, %s", p.Raw, err, object)
	}
}
