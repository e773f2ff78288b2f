package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/storage"
)

// threeServers is the harness of issue 17: an author on server A, a
// follower on a Mastodon-like server B and one on a group-aware (Lemmy-like)
// server C, all members of seedbreeders.
type threeServers struct {
	ti      *testInstance
	a, b, c *fedtest.Instance
	ann     *fedtest.Actor
}

func newThreeServers(t *testing.T) threeServers {
	t.Helper()
	s := threeServers{ti: newInstance(t, true)}
	s.a = fedtest.New(t, fedtest.OnAddress("127.0.0.2"))
	s.b = fedtest.New(t, fedtest.OnAddress("127.0.0.3"), fedtest.Software("mastodon"))
	s.c = fedtest.New(t, fedtest.OnAddress("127.0.0.4"), fedtest.GroupAware())
	s.ann = s.a.NewActor("ann")
	member(t, s.ti, s.a, s.ann)
	member(t, s.ti, s.b, s.b.NewActor("bea"))
	member(t, s.ti, s.c, s.c.NewActor("cid"))
	// Their Follows taught us what each server runs (NodeInfo), so each gets
	// the one Announce shape it shows; the author's server has no NodeInfo
	// and gets both.
	for _, want := range []struct {
		peer   *fedtest.Instance
		family storage.Family
	}{{s.a, storage.FamilyUnknown}, {s.b, storage.FamilyMicroblog}, {s.c, storage.FamilyGroup}} {
		_, f, _, err := s.ti.store.HostSoftware(context.Background(), want.peer.Host)
		if err != nil || f != want.family {
			t.Fatalf("software family of %s = %q, %v; want %q", want.peer.Host, f, err, want.family)
		}
	}
	return s
}

// post sends ann's public post into the community and waits until B and C
// show it; it returns the post's id.
func (s threeServers) post(t *testing.T, id, parent string) string {
	t.Helper()
	body := note(s.ann, id, s.ti.actor("seedbreeders"), parent, "Trial data "+id, true, true)
	if code, resp := s.ann.Post(t, s.ti.inbox("seedbreeders"), body); code != 202 {
		t.Fatalf("Create %s: %d %s", id, code, resp)
	}
	obj := s.ann.IRI + "/notes/" + id
	s.b.Wait(t, 1, wait, announced(obj))
	s.c.Wait(t, 1, wait, announced(obj+"/activity"))
	if !s.b.Shows(obj) || !s.c.Shows(obj) {
		t.Fatalf("after the post, B shows it %v, C shows it %v; want both", s.b.Shows(obj), s.c.Shows(obj))
	}
	return obj
}

// boostOf returns the id of the community's Announce of obj that B got.
func (s threeServers) boostOf(t *testing.T, obj string) string {
	t.Helper()
	for _, sh := range s.b.Timeline() {
		if sh.Object == obj {
			return sh.Announce
		}
	}
	t.Fatalf("B's timeline has no boost of %s", obj)
	return ""
}

func undoOf(announce string) func(fedtest.Received) bool {
	return func(r fedtest.Received) bool {
		inner, _ := r.Activity["object"].(map[string]any)
		return r.Activity["type"] == "Undo" && inner["type"] == "Announce" && inner["id"] == announce
	}
}

func announcedDelete(obj string) func(fedtest.Received) bool {
	return func(r fedtest.Received) bool {
		inner, _ := r.Activity["object"].(map[string]any)
		o, _ := inner["object"].(string)
		if m, ok := inner["object"].(map[string]any); ok {
			o, _ = m["id"].(string)
		}
		return r.Activity["type"] == "Announce" && inner["type"] == "Delete" && o == obj
	}
}

func communityDelete(obj string) func(fedtest.Received) bool {
	return func(r fedtest.Received) bool {
		o, _ := r.Activity["object"].(string)
		return r.Activity["type"] == "Delete" && o == obj
	}
}

// checkGone asserts a withdrawn announce answers 410 and has left the
// outbox.
func (s threeServers) checkGone(t *testing.T, announce string) {
	t.Helper()
	res, _ := get(t, announce, "application/activity+json")
	if res.StatusCode != http.StatusGone {
		t.Errorf("GET %s = %d, want 410", announce, res.StatusCode)
	}
	_, body := get(t, s.ti.actor("seedbreeders")+"/outbox?page=1", "application/activity+json")
	items, _ := decode(t, body)["orderedItems"].([]any)
	for _, it := range items {
		if it == announce {
			t.Errorf("outbox still lists %s", announce)
		}
	}
}

func TestAuthorDeleteWithdrawsTheBoostFromMicroblogFollowers(t *testing.T) {
	s := newThreeServers(t)
	obj := s.post(t, "1", "")
	boost := s.boostOf(t, obj)
	del, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": obj + "#delete", "type": "Delete",
		"actor": s.ann.IRI, "to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "object": map[string]any{"id": obj, "type": "Tombstone"}})
	if code, resp := s.ann.Post(t, s.ti.inbox("seedbreeders"), del); code != 202 {
		t.Fatalf("Delete: %d %s", code, resp)
	}
	s.b.Wait(t, 1, wait, undoOf(boost))
	s.c.Wait(t, 1, wait, announcedDelete(obj))
	if s.b.Shows(obj) {
		t.Errorf("B (Mastodon-like) still shows %s after the author deleted it: %v", obj, s.b.Timeline())
	}
	if s.c.Shows(obj) {
		t.Errorf("C (group-aware) still shows %s after the author deleted it", obj)
	}
	s.checkGone(t, boost)
}

func TestModeratorRemovalWithdrawsTheBoost(t *testing.T) {
	s := newThreeServers(t)
	root := s.post(t, "1", "")
	reply := s.post(t, "2", root)
	boost := s.boostOf(t, reply)
	if err := s.ti.svc.RemovePost(context.Background(), reply, "moderator@test", "off topic"); err != nil {
		t.Fatal(err)
	}
	s.b.Wait(t, 1, wait, undoOf(boost))
	s.c.Wait(t, 1, wait, communityDelete(reply))
	if s.b.Shows(reply) || s.c.Shows(reply) {
		t.Errorf("after the removal, B shows the reply %v, C shows it %v; want neither", s.b.Shows(reply), s.c.Shows(reply))
	}
	if !s.b.Shows(root) || !s.c.Shows(root) {
		t.Errorf("the thread starter was not removed, but B shows it %v, C %v", s.b.Shows(root), s.c.Shows(root))
	}
	s.checkGone(t, boost)
}

func TestThreadRemovalWithdrawsEveryBoostOfTheThread(t *testing.T) {
	s := newThreeServers(t)
	root := s.post(t, "1", "")
	reply := s.post(t, "2", root)
	other := s.post(t, "3", "")
	boosts := []string{s.boostOf(t, root), s.boostOf(t, reply)}
	if _, err := s.ti.svc.ModerateThread(context.Background(), root, "remove"); err != nil {
		t.Fatal(err)
	}
	for _, b := range boosts {
		s.b.Wait(t, 1, wait, undoOf(b))
	}
	s.c.Wait(t, 1, wait, communityDelete(root))
	for _, obj := range []string{root, reply} {
		if s.b.Shows(obj) {
			t.Errorf("B still shows %s of the removed thread", obj)
		}
	}
	if s.c.Shows(root) {
		t.Errorf("C still shows the removed thread's starter")
	}
	if !s.b.Shows(other) {
		t.Errorf("B lost the boost of %s, a post of another thread", other)
	}
	for _, b := range boosts {
		s.checkGone(t, b)
	}
}

// TestForgedUndoAnnounceChangesNothing: an Undo{Announce} of the
// community's boost sent by someone else, to us or to a follower's server,
// takes nothing away.
func TestForgedUndoAnnounceChangesNothing(t *testing.T) {
	s := newThreeServers(t)
	obj := s.post(t, "1", "")
	boost := s.boostOf(t, obj)
	mallory := s.a.NewActor("mallory")
	forged, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": mallory.IRI + "/undo/1", "type": "Undo",
		"actor": mallory.IRI, "object": map[string]any{"id": boost, "type": "Announce", "actor": s.ti.actor("seedbreeders"), "object": obj}})
	code, _ := mallory.Post(t, s.ti.inbox("seedbreeders"), forged)
	if code >= 500 {
		t.Errorf("forged Undo{Announce} to the community = %d, want a 2xx or 4xx", code)
	}
	res, _ := get(t, boost, "application/activity+json")
	if res.StatusCode != 200 {
		t.Errorf("after a forged Undo, GET %s = %d, want 200", boost, res.StatusCode)
	}
	bea := s.b.Timeline()
	if code, _ := mallory.Post(t, s.b.SharedInbox(), forged); code != 202 {
		t.Fatalf("forged Undo to B = %d", code)
	}
	if got := s.b.Timeline(); !slices.Equal(got, bea) || !s.b.Shows(obj) {
		t.Errorf("a forged Undo{Announce} from %s changed B's timeline: %v, was %v", mallory.IRI, got, bea)
	}
}
