package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
)

// TestGoToSocialAccountsTalkThroughACommunity walks the steps a GoToSocial
// user takes (issue 10), against fake instances as strict as GoToSocial
// 0.20: signed GETs only, every signer dereferenced and WebFingered, hs2019
// signatures, ld+json bodies, poll answers as named Notes. Two accounts on
// two servers resolve the community, follow it, post, see each other's
// post boosted in their home timelines, reply, like, answer a meeting's
// poll and delete.
func TestGoToSocialAccountsTalkThroughACommunity(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	host := strings.TrimPrefix(ti.URL, "http://")
	g1 := fedtest.New(t, fedtest.OnAddress("127.0.0.5"))
	g2 := fedtest.New(t, fedtest.OnAddress("127.0.0.6"))
	gina, hugo := g1.NewActor("gina"), g2.NewActor("hugo")

	// 1. Resolve @seedbreeders@host and see the profile.
	group, err := g1.Resolve(ctx, "@seedbreeders@"+host)
	if err != nil {
		t.Fatalf("resolve @seedbreeders@%s: %v", host, err)
	}
	if group.Type != "Group" || group.IRI != ti.actor("seedbreeders") || group.Name != "Seed breeders" {
		t.Fatalf("resolved %+v", group)
	}

	// 2. Follow: accepted with a signed Accept each server verifies.
	for _, f := range []struct {
		peer *fedtest.Instance
		a    *fedtest.Actor
	}{{g1, gina}, {g2, hugo}} {
		follow := f.a.Follow(group.IRI)
		if code, body := f.a.Post(t, group.Inbox, follow); code != 202 {
			t.Fatalf("Follow by %s: %d %s", f.a.IRI, code, body)
		}
		got := f.peer.Wait(t, 1, wait, isActivity("Accept", followID(t, follow)))
		if got[0].Err != nil {
			t.Fatalf("the Accept to %s does not authenticate: %v", f.a.IRI, got[0].Err)
		}
	}

	// 3. Gina posts by mentioning the community; Hugo sees it boosted.
	post := note(gina, "1", group.IRI, "", "How do you share trial data? @seedbreeders", true, true)
	if code, body := gina.Post(t, group.Inbox, post); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	postIRI := gina.IRI + "/notes/1"
	g2.Wait(t, 1, wait, announced(postIRI))
	if !g2.Shows(postIRI) {
		t.Fatalf("Hugo's home timeline %v does not show Gina's post", g2.Timeline())
	}
	p, err := ti.store.PostByIRI(ctx, postIRI)
	if err != nil {
		t.Fatal(err)
	}
	th, err := ti.store.ThreadByID(ctx, p.ThreadID)
	if err != nil || th.Title != "How do you share trial data?" {
		t.Errorf("thread title = %q, %v; want the question without the mention", th.Title, err)
	}

	// 4. Hugo replies; Gina sees the reply boosted.
	reply := note(hugo, "r1", group.IRI, postIRI, "We use a shared sheet.", true, false)
	if code, body := hugo.Post(t, group.Inbox, reply); code != 202 {
		t.Fatalf("reply: %d %s", code, body)
	}
	replyIRI := hugo.IRI + "/notes/r1"
	g1.Wait(t, 1, wait, announced(replyIRI))
	if r, err := ti.store.PostByIRI(ctx, replyIRI); err != nil || r.ThreadID != p.ThreadID {
		t.Errorf("reply = %+v, %v; want it in Gina's thread", r, err)
	}

	// 5. Hugo likes Gina's post.
	like, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": hugo.IRI + "/likes/1", "type": "Like", "actor": hugo.IRI, "object": postIRI})
	if code, body := hugo.Post(t, group.Inbox, like); code != 202 {
		t.Fatalf("like: %d %s", code, body)
	}
	if p, err := ti.store.PostByIRI(ctx, postIRI); err != nil || p.Likes != 1 {
		t.Errorf("likes = %d, %v; want 1", p.Likes, err)
	}

	// 6. A meeting's poll, answered as GoToSocial answers polls: a Note
	// named after the option, replying to the Question, without content.
	start := time.Date(2026, 12, 10, 18, 0, 0, 0, time.UTC)
	m, err := ti.svc.CreateMeeting(ctx, "seedbreeders", community.NewMeeting{
		Title: "Seed swap", Start: start, End: start.Add(time.Hour), TimeZone: "UTC", OnlineURL: "https://meet.example/seeds", By: "admin",
	})
	if err != nil {
		t.Fatal(err)
	}
	g1.Wait(t, 1, wait, typed("Create", func(o map[string]any) bool { return o["id"] == m.PollIRI }))
	vote, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": gina.IRI + "/statuses/v1/activity", "type": "Create", "actor": gina.IRI,
		"to":     []any{group.IRI},
		"object": map[string]any{"id": gina.IRI + "/statuses/v1", "type": "Note", "attributedTo": gina.IRI, "name": "Going", "inReplyTo": m.PollIRI, "to": []any{group.IRI}}})
	if code, body := gina.Post(t, group.Inbox, vote); code != 202 {
		t.Fatalf("poll vote: %d %s", code, body)
	}
	mv, err := ti.svc.Meeting(ctx, m.IRI)
	if err != nil || mv.Counts.Going != 1 {
		t.Errorf("going = %d, %v; want 1", mv.Counts.Going, err)
	}

	// 7. Gina deletes her post; it leaves Hugo's home timeline.
	del, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": postIRI + "#delete", "type": "Delete", "actor": gina.IRI,
		"to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "object": map[string]any{"id": postIRI, "type": "Tombstone"}})
	if code, body := gina.Post(t, group.Inbox, del); code != 202 {
		t.Fatalf("delete: %d %s", code, body)
	}
	g2.Wait(t, 1, wait, func(r fedtest.Received) bool { return r.Activity["type"] == "Undo" })
	if g2.Shows(postIRI) {
		t.Errorf("Hugo's timeline still shows the deleted post: %v", g2.Timeline())
	}
	if p, err := ti.store.PostByIRI(ctx, postIRI); err != nil || p.DeletedAt.IsZero() {
		t.Errorf("post after Delete = %+v, %v; want a tombstone", p, err)
	}
}
