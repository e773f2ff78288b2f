package server_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/server"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// The Group actor and the outbox's collection and first page are served
// from what the federation handler rendered before while the community is
// unchanged (issue 13's read path). Each test below reads a document
// first, so that it is kept, then changes what it shows and reads it again
// at once.

// outboxPage returns the totalItems of seedbreeders' outbox and the items
// of its first page, reading the collection and the page as peers do.
func outboxPage(t *testing.T, ti *testInstance) (total float64, items []string) {
	t.Helper()
	_, body := get(t, ti.actor("seedbreeders")+"/outbox", "application/activity+json")
	total, _ = decode(t, body)["totalItems"].(float64)
	_, body = get(t, ti.actor("seedbreeders")+"/outbox?page=1", "application/activity+json")
	page := decode(t, body)
	if n, _ := page["totalItems"].(float64); n != total {
		t.Errorf("outbox totalItems %v, its first page's %v; want them equal", total, n)
	}
	list, _ := page["orderedItems"].([]any)
	for _, it := range list {
		s, _ := it.(string)
		items = append(items, s)
	}
	return total, items
}

// announcesOf returns the listed activities of seedbreeders' outbox that
// are about obj (its Announces, of the object and of the activity).
func announcesOf(t *testing.T, ti *testInstance, items []string, obj string) []string {
	t.Helper()
	var out []string
	for _, iri := range items {
		_, body := get(t, iri, "application/activity+json")
		var a struct {
			Type   string `json:"type"`
			Object any    `json:"object"`
		}
		if err := json.Unmarshal(body, &a); err != nil {
			continue // a withdrawn one answers a Tombstone
		}
		about := a.Object
		if m, ok := a.Object.(map[string]any); ok {
			about = m["id"]
			if inner, ok := m["object"].(map[string]any); ok {
				about = inner["id"]
			}
		}
		if a.Type == "Announce" && (about == obj || about == obj+"/activity") {
			out = append(out, iri)
		}
	}
	return out
}

func TestOutboxListsAPostRightAfterItIsAccepted(t *testing.T) {
	ti := newInstance(t, true)
	peer := fedtest.New(t)
	ann := peer.NewActor("ann")
	member(t, ti, peer, ann)
	total, items := outboxPage(t, ti)

	if code, body := ann.Post(t, ti.inbox("seedbreeders"), note(ann, "1", ti.actor("seedbreeders"), "", "Trial data", true, true)); code != 202 {
		t.Fatalf("Create: %d %s", code, body)
	}
	total2, items2 := outboxPage(t, ti)
	if total2 <= total {
		t.Errorf("outbox totalItems after the post = %v, want more than %v", total2, total)
	}
	if got := announcesOf(t, ti, items2, ann.IRI+"/notes/1"); len(got) == 0 {
		t.Errorf("outbox's first page after the post = %v (before %v), want the post's announces", items2, items)
	}
}

func TestOutboxDropsAWithdrawnAnnounceAtOnce(t *testing.T) {
	ti := newInstance(t, true)
	peer := fedtest.New(t)
	ann := peer.NewActor("ann")
	member(t, ti, peer, ann)
	obj := ann.IRI + "/notes/1"
	if code, body := ann.Post(t, ti.inbox("seedbreeders"), note(ann, "1", ti.actor("seedbreeders"), "", "Trial data", true, true)); code != 202 {
		t.Fatalf("Create: %d %s", code, body)
	}
	_, items := outboxPage(t, ti)
	announces := announcesOf(t, ti, items, obj)
	if len(announces) == 0 {
		t.Fatalf("outbox's first page = %v, want the post's announces", items)
	}

	if err := ti.svc.RemovePost(context.Background(), obj, "moderator@test", "off topic"); err != nil {
		t.Fatal(err)
	}
	_, items = outboxPage(t, ti)
	for _, a := range announces {
		if slices.Contains(items, a) {
			t.Errorf("outbox's first page after the removal still lists %s", a)
		}
	}
}

func TestActorShowsAProfileChangeAtOnce(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func() error
		key    string
		want   any
	}{
		{"a new title", func() error {
			_, err := ti.svc.EditCommunity(ctx, "seedbreeders", community.CommunityEdit{Title: "Seed keepers", Summary: "Open-pollinated seed breeding.", JoinMode: community.JoinOpen})
			return err
		}, "name", "Seed keepers"},
		{"a new summary", func() error {
			_, err := ti.svc.EditCommunity(ctx, "seedbreeders", community.CommunityEdit{Title: "Seed keepers", Summary: "Landraces.", JoinMode: community.JoinOpen})
			return err
		}, "summary", "<p>Landraces.</p>"},
		{"a join mode needing approval", func() error {
			_, err := ti.svc.EditCommunity(ctx, "seedbreeders", community.CommunityEdit{Title: "Seed keepers", Summary: "Landraces.", JoinMode: community.JoinApproval})
			return err
		}, "manuallyApprovesFollowers", true},
		{"posting by moderators only", func() error {
			_, err := ti.svc.UpdateSettings(ctx, "seedbreeders", community.Settings{PostingPolicy: community.PostModerators})
			return err
		}, "postingRestrictedToMods", true},
		{"an icon", func() error {
			return ti.svc.SetIcon(ctx, "seedbreeders", "0123abcd", ".png")
		}, "icon", map[string]any{"type": "Image", "mediaType": "image/png", "url": ti.URL + "/media/0123abcd.png"}},
	} {
		_, body := get(t, ti.actor("seedbreeders"), "application/activity+json") // kept
		before := decode(t, body)[tc.key]
		if err := tc.change(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, body = get(t, ti.actor("seedbreeders"), "application/activity+json")
		if got := decode(t, body)[tc.key]; !equalJSON(got, tc.want) {
			t.Errorf("after %s, the actor's %s = %v (before %v), want %v", tc.name, tc.key, got, before, tc.want)
		}
	}
}

// TestDocumentsFollowAnotherProcess: a second Store on the same database
// plays another `coppice serve` (or a command) writing to it: what it
// commits is served at once, although this instance's federation handler
// never heard of the write.
func TestDocumentsFollowAnotherProcess(t *testing.T) {
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
	ti := newInstance(t, true, func(o *server.Options) { o.Store = open() })
	other := open()

	_, body := get(t, ti.actor("seedbreeders"), "application/activity+json")
	if got := decode(t, body)["name"]; got != "Seed breeders" {
		t.Fatalf("actor name = %v, want Seed breeders", got)
	}
	total, _ := outboxPage(t, ti)

	c, err := other.CommunityByName(ctx, "seedbreeders")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := other.UpdateCommunityProfile(ctx, c.ID, storage.CommunityProfile{Title: "Seed keepers", JoinMode: c.JoinMode, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	announce := ti.actor("seedbreeders") + "/activities/from-another-process"
	err = other.InTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.CreateOutboxActivity(ctx, storage.OutboxActivity{IRI: announce, CommunityID: c.ID, Type: "Announce",
			KeyID: ti.actor("seedbreeders") + "#main-key", Body: []byte(`{"type":"Announce"}`), Listed: true, CreatedAt: now})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	_, body = get(t, ti.actor("seedbreeders"), "application/activity+json")
	if got := decode(t, body)["name"]; got != "Seed keepers" {
		t.Errorf("actor name after another process changed it = %v, want Seed keepers", got)
	}
	total2, items := outboxPage(t, ti)
	if total2 != total+1 || len(items) == 0 || items[0] != announce {
		t.Errorf("outbox after another process listed an activity: totalItems %v (before %v), first page %v; want %v first", total2, total, items, announce)
	}
}

// equalJSON compares two values decoded from JSON.
func equalJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}
