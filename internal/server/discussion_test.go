package server_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// member makes a an accepted follower of seedbreeders and waits for the
// Accept.
func member(t testing.TB, ti *testInstance, peer *fedtest.Instance, a *fedtest.Actor) {
	t.Helper()
	f := a.Follow(ti.actor("seedbreeders"))
	if code, body := a.Post(t, ti.inbox("seedbreeders"), f); code != 202 {
		t.Fatalf("Follow by %s: %d %s", a.IRI, code, body)
	}
	peer.Wait(t, 1, wait, isActivity("Accept", followID(t, f)))
}

// rewrite moves a real payload onto the harness: the original actor
// becomes a, every other IRI on the actor's origin moves to a's instance,
// and the community it was addressed to becomes ours.
func rewrite(t *testing.T, raw []byte, origActor string, a *fedtest.Actor, communities []string, ours string) []byte {
	t.Helper()
	orig, err := url.Parse(origActor)
	if err != nil {
		t.Fatal(err)
	}
	origin := orig.Scheme + "://" + orig.Host
	peerURL := strings.TrimSuffix(a.IRI, "/users/"+a.Name)
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
			return x
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
			return x
		case string:
			for _, c := range communities {
				if x == c {
					return ours
				}
				if x == c+"/followers" {
					return ours + "/followers"
				}
			}
			if x == origActor {
				return a.IRI
			}
			if strings.HasPrefix(x, origin+"/") {
				return peerURL + strings.TrimPrefix(x, origin)
			}
			return x
		}
		return v
	}
	var m any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(walk(m))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mention adds the community to the cc and tags of a Create and its
// object, as Mastodon does when a post mentions @community@host.
func mention(t *testing.T, raw []byte, community, handle string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	obj := m["object"].(map[string]any)
	for _, x := range []map[string]any{m, obj} {
		cc, _ := x["cc"].([]any)
		x["cc"] = append(cc, community)
	}
	tags, _ := obj["tag"].([]any)
	obj["tag"] = append(tags, map[string]any{"type": "Mention", "href": community, "name": handle})
	out, _ := json.Marshal(m)
	return out
}

// wrapCreate wraps a real post object in the Create its server sends, by
// actor by (by default the object's attributedTo).
func wrapCreate(t *testing.T, raw []byte, public bool, by string) []byte {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	actor := obj["attributedTo"]
	if by != "" {
		actor = by
	}
	create := map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       obj["id"].(string) + "#create",
		"type":     "Create",
		"actor":    actor,
		"object":   obj,
	}
	for _, k := range []string{"to", "cc", "audience"} {
		if v, ok := obj[k]; ok {
			create[k] = v
		}
	}
	if public {
		create["to"] = []any{"https://www.w3.org/ns/activitystreams#Public"}
	}
	out, _ := json.Marshal(create)
	return out
}

func announced(activityID string) func(fedtest.Received) bool {
	return func(r fedtest.Received) bool {
		if r.Activity["type"] != "Announce" {
			return false
		}
		if s, ok := r.Activity["object"].(string); ok {
			return s == activityID
		}
		obj, _ := r.Activity["object"].(map[string]any)
		return obj["id"] == activityID
	}
}

// TestCreateFromEveryPlatform feeds the real Create payloads of every
// platform in the fixtures through the inbox and checks each lands in a
// thread of the community and is announced to a follower on another host.
func TestCreateFromEveryPlatform(t *testing.T) {
	ti := newInstance(t, true)
	followers := fedtest.New(t, fedtest.OnAddress("127.0.0.3"))
	bob := followers.NewActor("bob")
	member(t, ti, followers, bob)
	ours := ti.actor("seedbreeders")
	tests := []struct {
		file        string
		actor       string   // the payload's actor
		communities []string // the community IRIs it was addressed to
		mention     bool     // a Mastodon post: add a mention of ours
		wrap        bool     // an object to wrap in a Create
		by          string   // the wrapping Create's actor, when attributedTo names several
	}{
		{file: "mastodon_create_note.json", actor: "https://mastodon.madrid/users/felix", mention: true},
		{file: "mobilizon-own_mastodon-post-activity.json", actor: "https://framapiaf.org/users/admin", mention: true},
		{file: "mobilizon-own_mastodon-post-activity-hashtag.json", actor: "https://framapiaf.org/users/admin", mention: true},
		{file: "lemmy_create_or_update_create_page.json", actor: "http://ds9.lemmy.ml/u/lemmy_alpha", communities: []string{"http://enterprise.lemmy.ml/c/main", "https://enterprise.lemmy.ml/c/main"}},
		{file: "lemmy_create_or_update_create_comment.json", actor: "http://ds9.lemmy.ml/u/lemmy_alpha", communities: []string{"http://enterprise.lemmy.ml/c/main", "https://enterprise.lemmy.ml/c/main"}},
		{file: "friendica_create_note.json", actor: "https://soc.schuerz.at/profile/jakob", communities: []string{"https://lemmy.schuerz.at/c/test"}},
		{file: "friendica_create_page_1.json", actor: "https://masto.qa.urbanwildlife.biz/users/mastodon", communities: []string{"https://lemmy.qa.urbanwildlife.biz/c/lemmy_community"}},
		{file: "friendica_create_page_2.json", actor: "https://pirati.ca/profile/heluecht", communities: []string{"https://ds9.lemmy.ml/c/testcom"}},
		{file: "pleroma_create_note.json", actor: "https://greenish.red/users/nutomic", mention: true},
		{file: "gnusocial_create_note.json", actor: "https://instance.gnusocial.test/actor/42", mention: true},
		{file: "gnusocial_create_page.json", actor: "https://instance.gnusocial.test/actor/42", communities: []string{"https://instance.gnusocial.test/actor/21"}},
		{file: "lotide_create_page.json", actor: "https://b.tide.tk/apub/users/1", communities: []string{"https://c.tide.tk/communities/1"}},
		{file: "lotide_create_note_reply.json", actor: "https://c.tide.tk/users/1", communities: []string{"https://c.tide.tk/communities/1"}},
		{file: "lotide_create_page_image.json", actor: "http://ltthostname.local:3334/apub/users/3", communities: []string{"http://localhost:8536/c/elsewhere"}},
		{file: "mobilizon-own_prismo-url-map.json", actor: "https://prismo.news/@mxb", mention: true},
		{file: "nodebb_page_object.json", actor: "https://bb.devnull.land/uid/1", communities: []string{"https://bb.devnull.land/category/2"}, wrap: true},
		{file: "discourse_page_object.json", actor: "https://socialhub.activitypub.rocks/ap/actor/495843076e9e469fbd35ccf467ae9fb1", communities: []string{"https://socialhub.activitypub.rocks/ap/actor/797217cf18c0e819dfafc52425590146"}, wrap: true},
		// attributedTo lists: PeerTube names the account and the channel,
		// Plume the author and the blog (issue 10).
		{file: "peertube_video_object.json", actor: "https://tilvids.com/accounts/thelinuxexperiment", wrap: true, by: "https://tilvids.com/accounts/thelinuxexperiment", mention: true},
		{file: "mobilizon-own_peertube-video_object.json", actor: "https://framatube.org/accounts/framasoft", wrap: true, by: "https://framatube.org/accounts/framasoft", mention: true},
		{file: "plume_article_object.json", actor: "https://plume.example/@/alice/", wrap: true, by: "https://plume.example/@/alice/", mention: true},
	}
	for i, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			peer := fedtest.New(t, fedtest.OnAddress("127.0.1."+itoa(i+1)))
			author := peer.NewActor("author")
			member(t, ti, peer, author)
			raw, err := os.ReadFile(filepath.Join("testdata/create", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wrap {
				raw = wrapCreate(t, raw, strings.HasPrefix(tt.file, "discourse"), tt.by)
			}
			body := rewrite(t, raw, tt.actor, author, tt.communities, ours)
			if tt.mention {
				body = mention(t, body, ours, "@seedbreeders@"+strings.TrimPrefix(ti.URL, "http://"))
			}
			var act map[string]any
			_ = json.Unmarshal(body, &act)
			obj := act["object"].(map[string]any)
			if code, resp := author.Post(t, ti.inbox("seedbreeders"), body); code != 202 {
				t.Fatalf("Create: %d %s", code, resp)
			}
			p, err := ti.store.PostByIRI(context.Background(), obj["id"].(string))
			if err != nil {
				t.Fatalf("post %v not stored: %v", obj["id"], err)
			}
			if p.AuthorIRI != author.IRI {
				t.Errorf("author = %s, want %s", p.AuthorIRI, author.IRI)
			}
			th, err := ti.store.ThreadByID(context.Background(), p.ThreadID)
			if err != nil || th.CommunityID != mustCommunity(t, ti, "seedbreeders").ID || th.Title == "" {
				t.Errorf("thread = %+v, %v", th, err)
			}
			if strings.Contains(p.Content, "<script") {
				t.Errorf("content not sanitized: %s", p.Content)
			}
			got := followers.Wait(t, 1, wait, announced(act["id"].(string)))
			if got[0].Err != nil {
				t.Errorf("Announce{Create} does not verify: %v", got[0].Err)
			}
			followers.Wait(t, 1, wait, announced(obj["id"].(string)))
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// note builds a Create{Note} by a, addressed to the community (or not),
// public (or followers-only), replying to parent (or not).
func note(a *fedtest.Actor, id, community, parent, content string, public, mentioned bool) []byte {
	to := []any{a.IRI + "/followers"}
	if public {
		to = []any{"https://www.w3.org/ns/activitystreams#Public"}
	}
	cc := []any{}
	obj := map[string]any{
		"id": a.IRI + "/notes/" + id, "type": "Note", "attributedTo": a.IRI, "content": content,
		"published": "2026-11-20T10:00:00Z",
	}
	if mentioned {
		cc = append(cc, community)
		obj["tag"] = []any{map[string]any{"type": "Mention", "href": community}}
	}
	obj["to"], obj["cc"] = to, cc
	if parent != "" {
		obj["inReplyTo"] = parent
	}
	m := map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/notes/" + id + "/activity",
		"type": "Create", "actor": a.IRI, "to": to, "cc": cc, "object": obj,
	}
	b, _ := json.Marshal(m)
	return b
}

func TestPostingRules(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	alice, carol := peer.NewActor("alice"), peer.NewActor("carol")
	member(t, ti, peer, alice)
	ours := ti.actor("seedbreeders")

	tests := []struct {
		name   string
		who    *fedtest.Actor
		body   []byte
		status int
		stored bool
	}{
		{"GRP-03 a non-member mentions the community", carol, note(carol, "1", ours, "", "hello", true, true), 403, false},
		{"GRP-14 a followers-only post addressed to the community", alice, note(alice, "2", ours, "", "private", false, true), 403, false},
		{"a member's public post that does not name the community", alice, note(alice, "3", ours, "", "elsewhere", true, false), 403, false},
		{"a member's public post mentioning the community", alice, note(alice, "4", ours, "", `<p>Seed swap on Sunday</p><script>alert(1)</script><a href="javascript:alert(2)">map</a><img src=x onerror="alert(3)">`, true, true), 202, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := counts(t, ti.store)
			code, body := tt.who.Post(t, ti.inbox("seedbreeders"), tt.body)
			if code != tt.status {
				t.Errorf("status %d (%s), want %d", code, body, tt.status)
			}
			var m map[string]any
			_ = json.Unmarshal(tt.body, &m)
			_, err := ti.store.PostByIRI(ctx, m["object"].(map[string]any)["id"].(string))
			if stored := err == nil; stored != tt.stored {
				t.Errorf("stored = %v, want %v", stored, tt.stored)
			}
			if !tt.stored {
				if after := counts(t, ti.store); after["outbox_activities"] != before["outbox_activities"] || after["inbox_activities"] != before["inbox_activities"] {
					t.Errorf("refused post changed rows: %v → %v", before, after)
				}
			}
		})
	}
	p, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/4")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(p.Content, "script") || !strings.Contains(p.Content, "Seed swap on Sunday") {
		t.Errorf("stored content = %q", p.Content)
	}
	// CON-01: the public page of the thread renders the post inert.
	_, page := get(t, ti.actor("seedbreeders")+"/threads/"+strconv.FormatInt(p.ThreadID, 10), "text/html")
	low := strings.ToLower(string(page))
	for _, bad := range []string{"<script", "javascript:", "onerror", "alert("} {
		if strings.Contains(low, bad) {
			t.Errorf("thread page contains %q", bad)
		}
	}
	if !strings.Contains(string(page), "Seed swap on Sunday") {
		t.Errorf("thread page lacks the post")
	}
	// A locked thread refuses replies.
	if _, err := ti.svc.ModerateThread(ctx, p.IRI, "lock"); err != nil {
		t.Fatal(err)
	}
	code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "5", ours, p.IRI, "a reply", true, false))
	if code != 403 || !strings.Contains(body, "locked") {
		t.Errorf("reply to a locked thread: %d %s, want 403 locked", code, body)
	}
	if _, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/5"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("reply to a locked thread stored: %v", err)
	}
}

// TestSpoofing sends the forgeries of SECURITY.md ORI and GRP sections.
func TestSpoofing(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	other := fedtest.New(t, fedtest.OnAddress("127.0.0.2"))
	alice, mallory, eve := peer.NewActor("alice"), peer.NewActor("mallory"), other.NewActor("eve")
	for _, a := range []*fedtest.Actor{alice, mallory} {
		member(t, ti, peer, a)
	}
	member(t, ti, other, eve)
	ours := ti.actor("seedbreeders")
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ours, "", "<p>original</p>", true, true)); code != 202 {
		t.Fatalf("alice's post: %d %s", code, body)
	}
	target := alice.IRI + "/notes/1"

	forge := func(a *fedtest.Actor, typ, id string, object any) []byte {
		b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/act/" + id, "type": typ, "actor": a.IRI, "object": object,
			"to": []any{"https://www.w3.org/ns/activitystreams#Public"}})
		return b
	}
	tests := []struct {
		name   string
		who    *fedtest.Actor
		body   []byte
		status int
	}{
		{"GRP-10 Delete of alice's post by mallory on the same host", mallory, forge(mallory, "Delete", "d1", target), 403},
		{"GRP-10 Delete of alice's post by eve on another host", eve, forge(eve, "Delete", "d2", map[string]any{"id": target, "type": "Tombstone"}), 403},
		{"GRP-08 Update of alice's post by mallory", mallory, forge(mallory, "Update", "u1", map[string]any{"id": target, "type": "Note", "attributedTo": mallory.IRI, "content": "pwned", "to": []any{"https://www.w3.org/ns/activitystreams#Public"}}), 403},
		{"ORI-01 Create by mallory of a Note attributed to alice", mallory, forge(mallory, "Create", "c1", map[string]any{"id": mallory.IRI + "/notes/x", "type": "Note", "attributedTo": alice.IRI, "content": "fake", "to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []any{ours}}), 403},
		{"ORI-02 Create by eve of a Note whose id is on alice's host", eve, forge(eve, "Create", "c2", map[string]any{"id": peer.URL + "/notes/evil", "type": "Note", "attributedTo": eve.IRI, "content": "fake", "to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []any{ours}}), 403},
		{"ORI-08 Create by eve re-addressing alice's existing Note", eve, forge(eve, "Create", "c3", map[string]any{"id": target, "type": "Note", "attributedTo": eve.IRI, "content": "mine now", "to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []any{ours}}), 403},
		{"GRP-07 Announce by eve wrapping a forged Create by alice", eve, forge(eve, "Announce", "a1", map[string]any{"id": alice.IRI + "/notes/9/activity", "type": "Create", "actor": alice.IRI,
			"object": map[string]any{"id": alice.IRI + "/notes/9", "type": "Note", "attributedTo": alice.IRI, "content": "forged", "to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []any{ours}}}), 202},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := counts(t, ti.store)
			code, body := tt.who.Post(t, ti.inbox("seedbreeders"), tt.body)
			if code != tt.status {
				t.Errorf("status %d (%s), want %d", code, body, tt.status)
			}
			if after := counts(t, ti.store); after["outbox_activities"] != before["outbox_activities"] {
				t.Errorf("forgery made the community send something: %v → %v", before, after)
			}
			p, err := ti.store.PostByIRI(ctx, target)
			if err != nil || !p.DeletedAt.IsZero() || !strings.Contains(p.Content, "original") {
				t.Errorf("alice's post after the forgery: %+v %v", p, err)
			}
			if _, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/9"); err == nil {
				t.Errorf("the Note inside eve's Announce was stored")
			}
		})
	}
}

// TestConversationAcrossTwoInstances: alice on A starts a thread, bob on B
// (both members) gets it; bob replies, alice gets the reply; alice deletes
// her post, bob learns; the thread page shows what is left.
func TestConversationAcrossTwoInstances(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	a := fedtest.New(t, fedtest.OnAddress("127.0.0.4"))
	b := fedtest.New(t, fedtest.OnAddress("127.0.0.5"))
	alice, bob := a.NewActor("alice"), b.NewActor("bob")
	member(t, ti, a, alice)
	member(t, ti, b, bob)
	ours := ti.actor("seedbreeders")

	start := note(alice, "1", ours, "", "<p>Which tomato varieties breed true?</p><p>Looking for advice.</p>", true, true)
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), start); code != 202 {
		t.Fatalf("alice's post: %d %s", code, body)
	}
	b.Wait(t, 1, wait, announced(alice.IRI+"/notes/1"))
	b.Wait(t, 1, wait, announced(alice.IRI+"/notes/1/activity"))

	reply := note(bob, "1", ours, alice.IRI+"/notes/1", "<p>@alice Brandywine does, if you isolate it.</p>", true, false)
	if code, body := bob.Post(t, ti.sharedInbox(), reply); code != 202 {
		t.Fatalf("bob's reply: %d %s", code, body)
	}
	got := a.Wait(t, 1, wait, announced(bob.IRI+"/notes/1/activity"))
	if ctxIRI, _ := got[0].Activity["context"].(string); !strings.Contains(ctxIRI, "/c/seedbreeders/threads/") {
		t.Errorf("Announce context = %v, want the thread", got[0].Activity["context"])
	}
	p, err := ti.store.PostByIRI(ctx, bob.IRI+"/notes/1")
	if err != nil {
		t.Fatal(err)
	}
	root, _ := ti.store.PostByIRI(ctx, alice.IRI+"/notes/1")
	if p.ThreadID != root.ThreadID {
		t.Errorf("reply in thread %d, root in %d", p.ThreadID, root.ThreadID)
	}

	del, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": alice.IRI + "/notes/1#delete", "type": "Delete", "actor": alice.IRI,
		"object": map[string]any{"id": alice.IRI + "/notes/1", "type": "Tombstone"}, "to": []any{"https://www.w3.org/ns/activitystreams#Public"}})
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), del); code != 202 {
		t.Fatalf("alice's Delete: %d %s", code, body)
	}
	b.Wait(t, 1, wait, announced(alice.IRI+"/notes/1#delete"))

	threadURL := ti.actor("seedbreeders") + "/threads/" + strconv.FormatInt(root.ThreadID, 10)
	res, body := get(t, threadURL, "text/html")
	page := string(body)
	if res.StatusCode != 200 || !strings.Contains(page, "Brandywine does") || strings.Contains(page, "Looking for advice") || !strings.Contains(page, "deleted by its author") {
		t.Errorf("thread page (%d) does not show the reply and the deleted post:\n%s", res.StatusCode, page)
	}
	if !strings.Contains(page, "<h1>Which tomato varieties breed true?</h1>") {
		t.Errorf("thread title missing from the page")
	}
	res, body = get(t, threadURL, "application/activity+json")
	coll := decode(t, body)
	items, _ := coll["orderedItems"].([]any)
	if res.StatusCode != 200 || coll["type"] != "OrderedCollection" || len(items) != 1 || items[0] != bob.IRI+"/notes/1" {
		t.Errorf("thread context collection = %v", coll)
	}
}

func TestVotesAndCollections(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	alice, bob := peer.NewActor("alice"), peer.NewActor("bob")
	member(t, ti, peer, alice)
	ours := ti.actor("seedbreeders")
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ours, "", "<p>Seed library opening</p>", true, true)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	target := alice.IRI + "/notes/1"
	vote := func(a *fedtest.Actor, typ, id string) []byte {
		b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/votes/" + id, "type": typ, "actor": a.IRI, "object": target})
		return b
	}
	for _, v := range []struct {
		a       *fedtest.Actor
		body    []byte
		likes   int
		dislike int
	}{
		{bob, vote(bob, "Like", "1"), 1, 0},
		{bob, vote(bob, "Like", "1"), 1, 0}, // replay
		{bob, vote(bob, "Like", "2"), 1, 0}, // a second Like by the same actor
		{alice, vote(alice, "Dislike", "3"), 1, 1},
		{bob, vote(bob, "Dislike", "4"), 0, 2}, // the last vote wins
	} {
		if code, body := v.a.Post(t, ti.sharedInbox(), v.body); code != 202 {
			t.Fatalf("vote: %d %s", code, body)
		}
		p, _ := ti.store.PostByIRI(ctx, target)
		if p.Likes != v.likes || p.Dislikes != v.dislike {
			t.Errorf("after %s: likes %d dislikes %d, want %d %d", v.body, p.Likes, p.Dislikes, v.likes, v.dislike)
		}
	}
	undo, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": bob.IRI + "/undo/1", "type": "Undo", "actor": bob.IRI,
		"object": map[string]any{"id": bob.IRI + "/votes/4", "type": "Dislike", "actor": bob.IRI, "object": target}})
	if code, body := bob.Post(t, ti.sharedInbox(), undo); code != 202 {
		t.Fatalf("Undo: %d %s", code, body)
	}
	if p, _ := ti.store.PostByIRI(ctx, target); p.Likes != 0 || p.Dislikes != 1 {
		t.Errorf("after Undo{Dislike}: %d likes %d dislikes, want 0 and 1", p.Likes, p.Dislikes)
	}

	// Collections: the outbox lists the Announce, discussions the thread,
	// featured the pinned root.
	res, body := get(t, ours+"/outbox?page=1", "application/activity+json")
	if m := decode(t, body); res.StatusCode != 200 || m["totalItems"] != float64(1) {
		t.Errorf("outbox page = %v", m)
	}
	res, body = get(t, ours+"/discussions?page=1", "application/activity+json")
	m := decode(t, body)
	items, _ := m["orderedItems"].([]any)
	if res.StatusCode != 200 || len(items) != 1 || !strings.Contains(items[0].(string), "/c/seedbreeders/threads/") {
		t.Errorf("discussions page = %v", m)
	}
	if _, err := ti.svc.ModerateThread(ctx, target, "pin"); err != nil {
		t.Fatal(err)
	}
	_, body = get(t, ours+"/featured?page=1", "application/activity+json")
	if items, _ := decode(t, body)["orderedItems"].([]any); len(items) != 1 || items[0] != target {
		t.Errorf("featured = %v, want the pinned post", items)
	}
	_, body = get(t, ours+"/outbox", "application/activity+json")
	if m := decode(t, body); m["totalItems"] != float64(2) {
		t.Errorf("outbox after pinning has %v items, want 2 (the Announce and the Add)", m["totalItems"])
	}
}

// TestBoostOnlyThreadStarters: with boost replies off, a reply is announced
// as Announce{Create} only, which microblog servers ignore, so their
// timelines get thread starters only.
func TestBoostOnlyThreadStarters(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	if _, err := ti.svc.UpdateSettings(ctx, "seedbreeders", community.Settings{PostingPolicy: "members", BoostReplies: false}); err != nil {
		t.Fatal(err)
	}
	peer := fedtest.New(t)
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)
	ours := ti.actor("seedbreeders")
	before := counts(t, ti.store)["outbox_activities"]
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ours, "", "starter", true, true)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	afterStart := counts(t, ti.store)["outbox_activities"]
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "2", ours, alice.IRI+"/notes/1", "reply", true, false)); code != 202 {
		t.Fatalf("reply: %d %s", code, body)
	}
	afterReply := counts(t, ti.store)["outbox_activities"]
	if afterStart-before != 2 || afterReply-afterStart != 1 {
		t.Errorf("announces: %d for the starter, %d for the reply; want 2 and 1", afterStart-before, afterReply-afterStart)
	}
}

// noteObject returns the Note inside a Create built by note.
func noteObject(t *testing.T, create []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(create, &m); err != nil {
		t.Fatal(err)
	}
	obj := m["object"].(map[string]any)
	obj["@context"] = "https://www.w3.org/ns/activitystreams"
	b, _ := json.Marshal(obj)
	return b
}

// TestMissingAncestorsAreFetched: a reply to a post we never got is placed
// in the right thread after fetching the missing parent; a chain of
// unknown parents deeper than the limit is not followed to the end (FET-08).
func TestMissingAncestorsAreFetched(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	alice, carol := peer.NewActor("alice"), peer.NewActor("carol")
	member(t, ti, peer, alice)
	member(t, ti, peer, carol)
	ours := ti.actor("seedbreeders")
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "root", ours, "", "root post", true, true)); code != 202 {
		t.Fatalf("root: %d %s", code, body)
	}
	// carol's first reply reached only alice's server; her second reply,
	// to it, reaches us.
	middle := note(carol, "m", ours, alice.IRI+"/notes/root", "middle", true, false)
	peer.Serve("/users/carol/notes/m", noteObject(t, middle))
	if code, body := carol.Post(t, ti.inbox("seedbreeders"), note(carol, "leaf", ours, carol.IRI+"/notes/m", "leaf", true, false)); code != 202 {
		t.Fatalf("leaf: %d %s", code, body)
	}
	root, _ := ti.store.PostByIRI(ctx, alice.IRI+"/notes/root")
	for _, iri := range []string{carol.IRI + "/notes/m", carol.IRI + "/notes/leaf"} {
		p, err := ti.store.PostByIRI(ctx, iri)
		if err != nil || p.ThreadID != root.ThreadID {
			t.Errorf("%s: thread %d (%v), want %d", iri, p.ThreadID, err, root.ThreadID)
		}
	}

	// FET-08: 30 unknown ancestors, each served; the fetch stops at 20.
	parent := alice.IRI + "/notes/root"
	for i := 0; i < 30; i++ {
		id := "deep" + strconv.Itoa(i)
		peer.Serve("/users/carol/notes/"+id, noteObject(t, note(carol, id, ours, parent, "deep", true, false)))
		parent = carol.IRI + "/notes/" + id
	}
	if code, body := carol.Post(t, ti.inbox("seedbreeders"), note(carol, "deepleaf", ours, parent, "too deep", true, false)); code != 403 {
		t.Errorf("reply 31 levels below the thread: %d %s, want 403 (not placed, not addressed)", code, body)
	}
	fetched := 0
	for i := 0; i < 30; i++ {
		fetched += peer.Gets("/users/carol/notes/deep" + strconv.Itoa(i))
	}
	if fetched != 20 {
		t.Errorf("fetched %d ancestors, want 20", fetched)
	}
}

// TestFET09AncestorCycleEnds: a reply whose unknown parent and
// grandparent answer each other (A.inReplyTo = B, B.inReplyTo = A) is
// placed or refused once the cycle shows: each is fetched at most once.
func TestFET09AncestorCycleEnds(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	carol := peer.NewActor("carol")
	member(t, ti, peer, carol)
	ours := ti.actor("seedbreeders")
	a, b := carol.IRI+"/notes/cycle-a", carol.IRI+"/notes/cycle-b"
	peer.Serve("/users/carol/notes/cycle-a", noteObject(t, note(carol, "cycle-a", ours, b, "a", true, false)))
	peer.Serve("/users/carol/notes/cycle-b", noteObject(t, note(carol, "cycle-b", ours, a, "b", true, false)))
	before := stored(t, ti.store)
	if code, body := carol.Post(t, ti.inbox("seedbreeders"), note(carol, "cycle-leaf", ours, a, "leaf", true, false)); code != 403 {
		t.Errorf("reply under a cycle, not addressed to the community: %d %s, want 403 (no thread to place it in)", code, body)
	}
	for _, path := range []string{"/users/carol/notes/cycle-a", "/users/carol/notes/cycle-b"} {
		if n := peer.Gets(path); n != 1 {
			t.Errorf("%s fetched %d times, want once", path, n)
		}
	}
	if after := stored(t, ti.store); !reflect.DeepEqual(before, after) {
		t.Errorf("rows %v after the refusal, %v before", after, before)
	}
	// Addressed to the community, the same reply starts a thread of its
	// own with the cycle's two posts as its context, each stored once.
	if code, body := carol.Post(t, ti.inbox("seedbreeders"), note(carol, "cycle-leaf2", ours, a, "leaf", true, true)); code != 202 {
		t.Fatalf("addressed reply under a cycle: %d %s, want 202", code, body)
	}
	leaf, err := ti.store.PostByIRI(ctx, carol.IRI+"/notes/cycle-leaf2")
	if err != nil {
		t.Fatal(err)
	}
	for _, iri := range []string{a, b} {
		if p, err := ti.store.PostByIRI(ctx, iri); err == nil && p.ThreadID != leaf.ThreadID {
			t.Errorf("%s in thread %d, the reply in %d", iri, p.ThreadID, leaf.ThreadID)
		}
	}
	for _, path := range []string{"/users/carol/notes/cycle-a", "/users/carol/notes/cycle-b"} {
		if n := peer.Gets(path); n > 2 {
			t.Errorf("%s fetched %d times over two activities, want at most once each", path, n)
		}
	}
}

// TestAtomFeedAndRemoteFollow: the community's Atom feed parses and lists
// its threads; the follow helper redirects only to a server's
// authorize_interaction page built from a bare host name (FET-12).
func TestAtomFeedAndRemoteFollow(t *testing.T) {
	ti := newInstance(t, true)
	peer := fedtest.New(t)
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ti.actor("seedbreeders"), "", "<p>Winter sowing</p>", true, true)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	res, body := get(t, ti.actor("seedbreeders")+"/feed.atom", "")
	var feed struct {
		Title   string `xml:"title"`
		Entries []struct {
			Title   string `xml:"title"`
			Content string `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(body, &feed); err != nil || res.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Fatalf("feed: %v %s", err, res.Header.Get("Content-Type"))
	}
	if feed.Title != "Seed breeders" || len(feed.Entries) != 1 || feed.Entries[0].Title != "Winter sowing" || !strings.Contains(feed.Entries[0].Content, "Winter sowing") {
		t.Errorf("feed = %+v", feed)
	}

	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct {
		server, location string
	}{
		{"mastodon.social", "https://mastodon.social/authorize_interaction?uri=" + url.QueryEscape(ti.actor("seedbreeders"))},
		{"@me@Example.Social", "https://example.social/authorize_interaction?uri=" + url.QueryEscape(ti.actor("seedbreeders"))},
		{"https://social.example:8443/", "https://social.example:8443/authorize_interaction?uri=" + url.QueryEscape(ti.actor("seedbreeders"))},
		{"evil.example/steal?x=", ""},
		{"javascript:alert(1)", ""},
		{"//evil.example", ""},
		{"localhost", ""},
		{"", ""},
	} {
		res, err := client.Get(ti.actor("seedbreeders") + "/follow?server=" + url.QueryEscape(tt.server))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc := res.Header.Get("Location")
		if tt.location == "" && (res.StatusCode != 400 || loc != "") {
			t.Errorf("server %q: %d Location %q, want 400 and no redirect", tt.server, res.StatusCode, loc)
		}
		if tt.location != "" && (res.StatusCode != 303 || loc != tt.location) {
			t.Errorf("server %q: %d Location %q, want 303 to %s", tt.server, res.StatusCode, loc, tt.location)
		}
	}
}

// TestGRP01GRP02OneAnnouncePerSharedInbox: three members on one server
// with a shared inbox get each Announce of a post once, at the shared
// inbox (GRP-01); the same Create delivered again, to the shared inbox
// after the community's (GRP-02, as servers deliver to both, or retry),
// is taken with 202 and changes nothing: one post, no second Announce.
func TestGRP01GRP02OneAnnouncePerSharedInbox(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	fol := fedtest.New(t, fedtest.OnAddress("127.0.0.3"))
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)
	for _, name := range []string{"bob", "carol", "dan"} {
		member(t, ti, fol, fol.NewActor(name))
	}
	before := counts(t, ti.store)
	body := note(alice, "grp01", ti.actor("seedbreeders"), "", "<p>seed swap on Sunday</p>", true, true)
	if code, resp := alice.Post(t, ti.inbox("seedbreeders"), body); code != 202 {
		t.Fatalf("Create to the community's inbox: %d %s", code, resp)
	}
	once := counts(t, ti.store)
	if code, resp := alice.Post(t, ti.sharedInbox(), body); code != 202 {
		t.Fatalf("the same Create to the shared inbox: %d %s", code, resp)
	}
	again := counts(t, ti.store)
	if n := once["posts"] - before["posts"]; n != 1 {
		t.Errorf("posts: +%d, want +1", n)
	}
	announces := once["outbox_activities"] - before["outbox_activities"]
	if announces < 1 {
		t.Fatalf("no Announce of the post in the outbox")
	}
	for _, k := range []string{"posts", "outbox_activities", "threads", "contributions"} {
		if again[k] != once[k] {
			t.Errorf("the Create again changed %s: %d -> %d", k, once[k], again[k])
		}
	}
	waitFor(t, "the deliveries", func() bool {
		q, err := ti.store.QueueState(ctx, time.Now())
		return err == nil && q.Queued == 0 && q.FanOuts == 0
	})
	got := map[string]int{}
	for _, r := range fol.Received() {
		if r.Activity["type"] != "Announce" {
			continue
		}
		if r.Path != "/inbox" {
			t.Errorf("an Announce went to %s, not the shared inbox", r.Path)
		}
		got[fmt.Sprint(r.Activity["id"])]++
	}
	if len(got) != announces {
		t.Errorf("the followers' server got %d distinct Announces, want the outbox's %d", len(got), announces)
	}
	for id, n := range got {
		if n != 1 {
			t.Errorf("Announce %s arrived %d times, want once for three members", id, n)
		}
	}
}
