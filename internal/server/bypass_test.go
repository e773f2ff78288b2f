package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/server"
	"github.com/coppice-dev/coppice/storage"
)

// The rule bypasses of issue 11: each way into a community (post, edit,
// like, meeting answer) passes the same standing check.

// update builds alice's Update of her post id with new content.
func update(a *fedtest.Actor, id, uid, content string, extra map[string]any) []byte {
	obj := map[string]any{"id": a.IRI + "/notes/" + id, "type": "Note", "attributedTo": a.IRI, "content": content,
		"to": []any{"https://www.w3.org/ns/activitystreams#Public"}}
	for k, v := range extra {
		obj[k] = v
	}
	b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/notes/" + id + "/updates/" + uid,
		"type": "Update", "actor": a.IRI, "to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "object": obj})
	return b
}

// bypassHarness: seedbreeders with alice (author, on peer) and bob (a
// follower on another host), alice's post 1 announced.
func bypassHarness(t *testing.T) (*testInstance, *fedtest.Instance, *fedtest.Actor, *fedtest.Instance) {
	t.Helper()
	ti := newInstance(t, true)
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.2"))
	followers := fedtest.New(t, fedtest.OnAddress("127.0.0.3"))
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)
	member(t, ti, followers, followers.NewActor("bob"))
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ti.actor("seedbreeders"), "", "original", true, true)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	followers.Wait(t, 1, wait, announced(alice.IRI+"/notes/1"))
	return ti, peer, alice, followers
}

// outboxHas reports whether an activity on the community's first outbox
// page mentions s.
func outboxHas(t *testing.T, ti *testInstance, s string) bool {
	t.Helper()
	_, body := get(t, ti.actor("seedbreeders")+"/outbox?page=1", "application/activity+json")
	items, _ := decode(t, body)["orderedItems"].([]any)
	if len(items) == 0 {
		t.Fatalf("the outbox is empty: %s", body)
	}
	for _, it := range items {
		iri, _ := it.(string)
		if _, b := get(t, iri, "application/activity+json"); strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}

// TestGRP09UpdateOfAnAnnouncedPost: the author's Update of an announced
// post changes it and is announced once (the same Update again is a
// no-op); another member's Update of it is refused; an Update of a post
// we never had is taken (202) and changes nothing.
func TestGRP09UpdateOfAnAnnouncedPost(t *testing.T) {
	ti, peer, alice, followers := bypassHarness(t)
	ctx := context.Background()
	outbox := func() int { return counts(t, ti.store)["outbox_activities"] }
	before := outbox()
	upd := update(alice, "1", "u1", "<p>edited: sow in March</p>", nil)
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), upd); code != 202 {
		t.Fatalf("the author's Update: %d %s", code, body)
	}
	if p, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/1"); err != nil || !strings.Contains(p.Content, "sow in March") || p.Updated.IsZero() {
		t.Errorf("post after the Update = %q updated %v (%v)", p.Content, p.Updated, err)
	}
	got := followers.Wait(t, 1, wait, announced(alice.IRI+"/notes/1/updates/u1"))
	if obj, _ := got[0].Activity["object"].(map[string]any); obj["type"] != "Update" || got[0].Err != nil {
		t.Errorf("announced %v (%v), want the Update", got[0].Activity["object"], got[0].Err)
	}
	if n := outbox() - before; n != 1 {
		t.Errorf("%d outbox activities for one Update, want 1", n)
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), upd); code != 202 {
		t.Errorf("the same Update again: %d %s, want 202", code, body)
	}
	if n := outbox() - before; n != 1 {
		t.Errorf("%d outbox activities after the Update came twice, want 1", n)
	}

	mallory := peer.NewActor("mallory")
	member(t, ti, peer, mallory)
	forged := update(alice, "1", "u2", "<p>vandalised</p>", nil)
	forged = bytes.ReplaceAll(forged, []byte(`"actor":"`+alice.IRI+`"`), []byte(`"actor":"`+mallory.IRI+`"`))
	forged = bytes.ReplaceAll(forged, []byte(`/users/alice/notes/1/updates/u2`), []byte(`/users/mallory/updates/u2`))
	if code, body := mallory.Post(t, ti.inbox("seedbreeders"), forged); code != 403 {
		t.Errorf("another member's Update of alice's post: %d %s, want 403", code, body)
	}
	if p, _ := ti.store.PostByIRI(ctx, alice.IRI+"/notes/1"); strings.Contains(p.Content, "vandalised") {
		t.Errorf("another member changed the post: %q", p.Content)
	}

	rows := counts(t, ti.store)
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), update(alice, "never", "u1", "<p>never announced</p>", nil)); code != 202 {
		t.Errorf("Update of a post we never had: %d %s, want 202", code, body)
	}
	if _, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/never"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an Update made a post we never had (%v)", err)
	}
	after := counts(t, ti.store)
	for _, k := range []string{"posts", "threads", "outbox_activities", "contributions"} {
		if after[k] != rows[k] {
			t.Errorf("%s went from %d to %d for an Update of a post we never had", k, rows[k], after[k])
		}
	}
}

// TestGRP06PostToAClosedCommunityWaits: with posting for moderators
// only, a member's post through the inbox is answered 202, stored nowhere
// a reader sees and delivered to nobody; the same post again changes
// nothing; once a moderator approves it, the followers get its Announce.
func TestGRP06PostToAClosedCommunityWaits(t *testing.T) {
	ti, _, alice, followers := bypassHarness(t)
	ctx := context.Background()
	if _, err := ti.svc.UpdateSettings(ctx, "seedbreeders", community.Settings{PostingPolicy: community.PostModerators, BoostReplies: true}); err != nil {
		t.Fatal(err)
	}
	before := stored(t, ti.store)
	body := note(alice, "held", ti.actor("seedbreeders"), "", "<p>Please approve me</p>", true, true)
	for range 2 {
		if code, resp := alice.Post(t, ti.inbox("seedbreeders"), body); code != http.StatusAccepted {
			t.Fatalf("a member's post to a closed community: %d %s, want 202", code, resp)
		}
	}
	after := stored(t, ti.store)
	if after["held_posts"] != before["held_posts"]+1 {
		t.Errorf("held posts %d -> %d, want one more", before["held_posts"], after["held_posts"])
	}
	for _, k := range []string{"posts", "threads", "outbox_activities", "inbox_activities", "contributions"} {
		if after[k] != before[k] {
			t.Errorf("%s went from %d to %d for a waiting post", k, before[k], after[k])
		}
	}
	if _, page := get(t, ti.actor("seedbreeders"), "text/html"); strings.Contains(string(page), "Please approve me") {
		t.Error("the community page shows a waiting post")
	}
	c, err := ti.store.CommunityByName(ctx, "seedbreeders")
	if err != nil {
		t.Fatal(err)
	}
	held, err := ti.svc.HeldPosts(ctx, c)
	if err != nil || len(held) != 1 {
		t.Fatalf("held posts = %+v, %v", held, err)
	}
	if err := ti.svc.ReviewHeld(ctx, community.Operator("admin"), "seedbreeders", held[0].ID, true); err != nil {
		t.Fatal(err)
	}
	got := followers.Wait(t, 1, wait, announced(alice.IRI+"/notes/held/activity"))
	if got[0].Err != nil {
		t.Errorf("the approved post's Announce does not verify at the follower: %v", got[0].Err)
	}
	if _, page := get(t, ti.actor("seedbreeders"), "text/html"); !strings.Contains(string(page), "Please approve me") {
		t.Error("the community page does not show the approved post")
	}
}

func TestUpdateByABannedMemberIsRefused(t *testing.T) {
	ti, _, alice, _ := bypassHarness(t)
	if err := ti.svc.Ban(context.Background(), community.Operator("admin"), "seedbreeders", alice.IRI, "spam"); err != nil {
		t.Fatal(err)
	}
	upd := update(alice, "1", "u1", "spam spam", nil)
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), upd); code != 403 {
		t.Errorf("Update by a banned member = %d %s, want 403", code, body)
	}
	p, err := ti.store.PostByIRI(context.Background(), alice.IRI+"/notes/1")
	if err != nil || strings.Contains(p.Content, "spam") {
		t.Errorf("post after the refused Update = %q, %v", p.Content, err)
	}
	if outboxHas(t, ti, alice.IRI+"/notes/1/updates/u1") {
		t.Errorf("the refused Update was announced")
	}
}

func TestUpdateOfAPostInARemovedThreadIsRefused(t *testing.T) {
	ti, _, alice, _ := bypassHarness(t)
	if _, err := ti.svc.ModerateThread(context.Background(), alice.IRI+"/notes/1", "remove"); err != nil {
		t.Fatal(err)
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), update(alice, "1", "u1", "back again", nil)); code != 403 {
		t.Errorf("Update in a removed thread = %d %s, want 403", code, body)
	}
	if outboxHas(t, ti, alice.IRI+"/notes/1/updates/u1") {
		t.Errorf("the refused Update was announced")
	}
}

func TestUpdateFromASilencedHostIsKeptButNotAnnounced(t *testing.T) {
	ti, peer, alice, _ := bypassHarness(t)
	if err := ti.svc.SetDomainPolicy(context.Background(), peer.Host, "silence"); err != nil {
		t.Fatal(err)
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), update(alice, "1", "u1", "edited quietly", nil)); code != 202 {
		t.Fatalf("Update: %d %s", code, body)
	}
	if p, err := ti.store.PostByIRI(context.Background(), alice.IRI+"/notes/1"); err != nil || !strings.Contains(p.Content, "edited quietly") {
		t.Errorf("post = %q, %v; want the edit kept", p.Content, err)
	}
	if outboxHas(t, ti, alice.IRI+"/notes/1/updates/u1") {
		t.Errorf("an Update from a silenced host was announced")
	}
}

func TestUpdateFromARejectMediaHostLosesItsImages(t *testing.T) {
	ti, peer, alice, followers := bypassHarness(t)
	if err := ti.svc.SetDomainPolicy(context.Background(), peer.Host, "reject_media"); err != nil {
		t.Fatal(err)
	}
	img := `<p>see <img src="https://evil.example/tracker.png" alt="x"></p>`
	upd := update(alice, "1", "u1", img, map[string]any{"attachment": []any{map[string]any{"type": "Document", "mediaType": "image/png", "url": "https://evil.example/big.png"}}})
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), upd); code != 202 {
		t.Fatalf("Update: %d %s", code, body)
	}
	if p, err := ti.store.PostByIRI(context.Background(), alice.IRI+"/notes/1"); err != nil || strings.Contains(p.Content, "<img") {
		t.Errorf("stored post = %q, %v; want no image", p.Content, err)
	}
	got := followers.Wait(t, 1, wait, func(r fedtest.Received) bool {
		inner, _ := r.Activity["object"].(map[string]any)
		return r.Activity["type"] == "Announce" && inner["id"] == alice.IRI+"/notes/1/updates/u1"
	})
	if body := string(got[0].Body); strings.Contains(body, "evil.example") {
		t.Errorf("the announced Update still carries the media: %s", body)
	}
}

func TestABannedActorsLikeIsNotCounted(t *testing.T) {
	ti, peer, alice, _ := bypassHarness(t)
	carol := peer.NewActor("carol")
	member(t, ti, peer, carol)
	if err := ti.svc.Ban(context.Background(), community.Operator("admin"), "seedbreeders", carol.IRI, "brigading"); err != nil {
		t.Fatal(err)
	}
	like, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": carol.IRI + "/likes/1", "type": "Like", "actor": carol.IRI, "object": alice.IRI + "/notes/1"})
	if code, body := carol.Post(t, ti.inbox("seedbreeders"), like); code != 403 {
		t.Errorf("Like by a banned actor = %d %s, want 403", code, body)
	}
	if p, err := ti.store.PostByIRI(context.Background(), alice.IRI+"/notes/1"); err != nil || p.Likes != 0 {
		t.Errorf("likes = %d, %v; want 0", p.Likes, err)
	}
}

func TestStrangersCannotFillAMeeting(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.2"))
	start := time.Date(2026, 12, 10, 18, 0, 0, 0, time.UTC)
	m, err := ti.svc.CreateMeeting(ctx, "seedbreeders", community.NewMeeting{
		Title: "Small seed swap", Start: start, End: start.Add(time.Hour), TimeZone: "UTC", Place: "The barn", Capacity: 3, By: "admin",
	})
	if err != nil {
		t.Fatal(err)
	}
	join := func(a *fedtest.Actor, id string) []byte {
		b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/join/" + id, "type": "Join", "actor": a.IRI, "object": m.IRI})
		return b
	}
	for i := range 3 {
		stranger := peer.NewActor("stranger" + itoa(i))
		if code, body := stranger.Post(t, ti.sharedInbox(), join(stranger, "1")); code != 403 {
			t.Errorf("Join by a stranger = %d %s, want 403", code, body)
		}
	}
	banned := peer.NewActor("banned")
	member(t, ti, peer, banned)
	if err := ti.svc.Ban(ctx, community.Operator("admin"), "seedbreeders", banned.IRI, ""); err != nil {
		t.Fatal(err)
	}
	if code, body := banned.Post(t, ti.sharedInbox(), join(banned, "1")); code != 403 {
		t.Errorf("Join by a banned actor = %d %s, want 403", code, body)
	}
	dora := peer.NewActor("dora")
	member(t, ti, peer, dora)
	if code, body := dora.Post(t, ti.sharedInbox(), join(dora, "1")); code != 202 {
		t.Errorf("Join by a member = %d %s, want 202", code, body)
	}
	mv, err := ti.svc.Meeting(ctx, m.IRI)
	if err != nil || mv.Counts.Going != 1 {
		t.Errorf("going = %d, %v; want 1 (the member only)", mv.Counts.Going, err)
	}
}

func TestAMeetingInTheYear9999IsRefusedAndABadRowNeverBreaksTheCalendar(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	far := time.Date(9999, 12, 31, 20, 0, 0, 0, time.UTC)
	_, err := ti.svc.CreateMeeting(ctx, "seedbreeders", community.NewMeeting{Title: "Far away", Start: far, End: far.Add(time.Hour), TimeZone: "UTC", Place: "Moon", By: "admin"})
	var inv *community.InvalidError
	if !errors.As(err, &inv) || inv.Fields["start"] == "" {
		t.Errorf("CreateMeeting in 9999 = %v, want a start field error", err)
	}
	start := time.Date(2026, 12, 10, 18, 0, 0, 0, time.UTC)
	good, err := ti.svc.CreateMeeting(ctx, "seedbreeders", community.NewMeeting{Title: "Seed swap", Start: start, End: start.Add(time.Hour), TimeZone: "UTC", Place: "The barn", By: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	// A row written before dates were bounded.
	c := mustCommunity(t, ti, "seedbreeders")
	err = ti.store.InTx(ctx, func(tx *storage.Tx) error {
		_, err := tx.CreateMeeting(ctx, storage.Meeting{CommunityID: c.ID, IRI: ti.actor("seedbreeders") + "/events/bad", PollIRI: ti.actor("seedbreeders") + "/events/bad/poll",
			Title: "Old bad row", Start: far, End: far.Add(time.Hour), TimeZone: "UTC", Status: storage.MeetingConfirmed, CreatedBy: "admin", CreatedAt: time.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	res, body := get(t, ti.actor("seedbreeders")+"/meetings.ics", "")
	// RFC 5545 folds lines over 75 octets: unfold before looking for the IRI.
	unfolded := strings.ReplaceAll(string(body), "\r\n ", "")
	if res.StatusCode != 200 || !strings.Contains(unfolded, good.IRI) || strings.Contains(unfolded, "Old bad row") {
		t.Errorf("meetings.ics = %d, want 200 with the good meeting and without the bad row:\n%s", res.StatusCode, body)
	}
}

// TestARepliedToPostOnABlockedHostIsNeverFetched: a member's reply to a
// post on a blocked host does not make us fetch that post, nor import it
// into the thread (issue 11, bypass 5).
func TestARepliedToPostOnABlockedHostIsNeverFetched(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.2"))
	blocked := fedtest.New(t, fedtest.OnAddress("127.0.0.8"))
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)
	eve := blocked.NewActor("eve")
	parent := eve.IRI + "/notes/p"
	blocked.Serve("/users/eve/notes/p", []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"`+parent+`","type":"Note","attributedTo":"`+eve.IRI+`","content":"blocked words","to":["https://www.w3.org/ns/activitystreams#Public"]}`))
	if err := ti.svc.SetDomainPolicy(ctx, blocked.Host, "block"); err != nil {
		t.Fatal(err)
	}
	code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "r", ti.actor("seedbreeders"), parent, "replying", true, true))
	if code >= 500 {
		t.Fatalf("reply: %d %s", code, body)
	}
	if n := blocked.Gets("/users/eve/notes/p"); n != 0 {
		t.Errorf("the blocked host was asked %d times for the parent", n)
	}
	if _, err := ti.store.PostByIRI(ctx, parent); err == nil {
		t.Errorf("the post on the blocked host was imported into the thread")
	}
}

// TestMeetingAnswersAreSentInBatches: a member toggling Join and Leave 50
// times makes no activity per answer; the next batch sends one Update of
// the Event and one of its poll (issue 11, bypass 3).
func TestMeetingAnswersAreSentInBatches(t *testing.T) {
	// Without the inbound rate limit, which would otherwise refuse most of
	// one actor's 50 answers before they reach the community's rules.
	ti := newInstance(t, true, func(o *server.Options) { o.Rate = federation.Rate{ActorBurst: 1 << 30, HostBurst: 1 << 30} })
	ctx := context.Background()
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.2"))
	dora := peer.NewActor("dora")
	member(t, ti, peer, dora)
	start := time.Date(2026, 12, 10, 18, 0, 0, 0, time.UTC)
	m, err := ti.svc.CreateMeeting(ctx, "seedbreeders", community.NewMeeting{Title: "Seed swap", Start: start, End: start.Add(time.Hour), TimeZone: "UTC", Place: "The barn", By: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	before, err := ti.store.RowCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		typ := "Join"
		if i%2 == 1 {
			typ = "Leave"
		}
		b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": dora.IRI + "/rsvp/" + itoa(i), "type": typ, "actor": dora.IRI, "object": m.IRI})
		if code, body := dora.Post(t, ti.sharedInbox(), b); code != 202 {
			t.Fatalf("%s %d: %d %s", typ, i, code, body)
		}
	}
	after, _ := ti.store.RowCounts(ctx)
	if got := after["outbox_activities"] - before["outbox_activities"]; got != 0 {
		t.Errorf("50 answers made %d outbox activities at once, want 0 until the batch", got)
	}
	if n, err := ti.svc.SendChangedCounts(ctx, 0); err != nil || n != 1 {
		t.Fatalf("SendChangedCounts = %d, %v; want 1", n, err)
	}
	sent, _ := ti.store.RowCounts(ctx)
	if got := sent["outbox_activities"] - before["outbox_activities"]; got != 2 {
		t.Errorf("the batch made %d outbox activities, want 2 (Update of the Event and of the poll)", got)
	}
}

// TestGRP05BannedMembersNoteInAnotherMembersBoost: after alice is banned,
// her new note reaches the community inside carol's Announce (by IRI and
// embedded): it is taken as a boost only (202), neither stored as a post
// nor announced to the followers (CVE-2026-23961's path).
func TestGRP05BannedMembersNoteInAnotherMembersBoost(t *testing.T) {
	ti, peer, alice, followers := bypassHarness(t)
	ctx := context.Background()
	carol := peer.NewActor("carol")
	member(t, ti, peer, carol)
	if err := ti.svc.Ban(ctx, community.Operator("admin"), "seedbreeders", alice.IRI, "spam"); err != nil {
		t.Fatal(err)
	}
	create := note(alice, "after-ban", ti.actor("seedbreeders"), "", "<p>spam after the ban</p>", true, true)
	object := noteObject(t, create)
	peer.Serve("/users/alice/notes/after-ban", object)
	var embedded map[string]any
	if err := json.Unmarshal(object, &embedded); err != nil {
		t.Fatal(err)
	}
	before := counts(t, ti.store)
	for i, obj := range []any{alice.IRI + "/notes/after-ban", embedded} {
		body, _ := json.Marshal(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams", "type": "Announce",
			"id": fmt.Sprintf("%s/boosts/%d", carol.IRI, i), "actor": carol.IRI, "object": obj,
			"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{ti.actor("seedbreeders")},
		})
		if code, resp := carol.Post(t, ti.inbox("seedbreeders"), body); code != 202 {
			t.Errorf("carol's boost %d: %d %s, want 202", i, code, resp)
		}
	}
	if _, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/after-ban"); err == nil {
		t.Errorf("the banned member's note was stored from a boost")
	}
	after := counts(t, ti.store)
	for _, k := range []string{"posts", "threads", "outbox_activities", "contributions"} {
		if after[k] != before[k] {
			t.Errorf("%s went from %d to %d", k, before[k], after[k])
		}
	}
	if outboxHas(t, ti, alice.IRI+"/notes/after-ban") {
		t.Errorf("the banned member's note was announced")
	}
	for _, r := range followers.Received() {
		if strings.Contains(string(r.Body), "after-ban") {
			t.Errorf("a follower got the banned member's note: %s", r.Body)
		}
	}
}
