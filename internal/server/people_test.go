package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation"
	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// TestRolesFederateAndModeratorsAct: a member becomes a moderator; the
// change reaches followers as Add on the moderators collection and shows in
// both collections. The moderator's Delete of someone else's post is
// honoured; a plain member's is not.
func TestRolesFederateAndModeratorsAct(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	followers := fedtest.New(t, fedtest.OnAddress("127.0.0.8"))
	alice, mod, bob := peer.NewActor("alice"), peer.NewActor("mod"), followers.NewActor("bob")
	member(t, ti, peer, alice)
	member(t, ti, peer, mod)
	member(t, ti, followers, bob)
	ours := ti.actor("seedbreeders")

	if err := ti.svc.SetRole(ctx, community.Operator("admin"), "seedbreeders", mod.IRI, "moderator"); err != nil {
		t.Fatal(err)
	}
	followers.Wait(t, 1, wait, func(r fedtest.Received) bool {
		return r.Activity["type"] == "Add" && r.Activity["object"] == mod.IRI && r.Activity["target"] == ours+"/moderators"
	})
	_, body := get(t, ours+"/moderators?page=1", "application/activity+json")
	if items, _ := decode(t, body)["orderedItems"].([]any); len(items) != 1 || items[0] != mod.IRI {
		t.Errorf("moderators = %v, want the new moderator", items)
	}
	_, body = get(t, ours+"/members?page=1", "application/activity+json")
	var roles []string
	for _, it := range decode(t, body)["orderedItems"].([]any) {
		m := it.(map[string]any)
		if m["type"] != "Member" {
			t.Errorf("members item type %v, want Member", m["type"])
		}
		roles = append(roles, m["actor"].(string)+"="+m["role"].(string))
	}
	if len(roles) != 3 || roles[0] != mod.IRI+"=moderator" {
		t.Errorf("members = %v, want the moderator first", roles)
	}

	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ours, "", "a post", true, true)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	target := alice.IRI + "/notes/1"
	del := func(a *fedtest.Actor, id string) []byte {
		b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/del/" + id, "type": "Delete", "actor": a.IRI,
			"object": target, "summary": "off topic", "to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []any{ours}})
		return b
	}
	if code, _ := bob.Post(t, ti.inbox("seedbreeders"), del(bob, "1")); code != 403 {
		t.Errorf("a plain member's Delete of alice's post: %d, want 403", code)
	}
	if p, _ := ti.store.PostByIRI(ctx, target); !p.DeletedAt.IsZero() {
		t.Fatalf("a plain member removed the post")
	}
	if code, body := mod.Post(t, ti.inbox("seedbreeders"), del(mod, "2")); code != 202 {
		t.Fatalf("the moderator's Delete: %d %s", code, body)
	}
	if p, _ := ti.store.PostByIRI(ctx, target); p.DeletedAt.IsZero() {
		t.Errorf("the moderator's Delete was not honoured")
	}
	followers.Wait(t, 1, wait, func(r fedtest.Received) bool {
		return r.Activity["type"] == "Delete" && r.Activity["object"] == target && r.Activity["actor"] == ours
	})
	log, err := ti.svc.ModerationLog(ctx, mustCommunity(t, ti, "seedbreeders"))
	if err != nil || len(log) != 2 || log[0].Action != "remove post" || log[0].By != mod.IRI || log[1].Action != "role moderator" {
		t.Errorf("moderation log = %+v, %v", log, err)
	}
}

// TestFlagResolveAndBan: a Mastodon report reaches the queue; resolving it
// by removal federates the Delete; after a ban the author's posts and
// Follows are refused.
func TestFlagResolveAndBan(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	reporters := fedtest.New(t, fedtest.OnAddress("127.0.0.9"))
	alice, instanceActor, bob := peer.NewActor("alice"), reporters.NewActor("actor"), reporters.NewActor("bob")
	member(t, ti, peer, alice)
	member(t, ti, reporters, bob)
	ours := ti.actor("seedbreeders")
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "spam", ours, "", "buy seeds cheap", true, true)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	raw, err := os.ReadFile("testdata/moderation/mastodon_flag.json")
	if err != nil {
		t.Fatal(err)
	}
	var flag map[string]any
	_ = json.Unmarshal(raw, &flag)
	flag["id"] = reporters.URL + "/reports/1"
	flag["actor"] = instanceActor.IRI
	flag["object"] = []any{alice.IRI, alice.IRI + "/notes/spam"}
	flag["to"] = ours
	body, _ := json.Marshal(flag)
	if code, resp := instanceActor.Post(t, ti.inbox("seedbreeders"), body); code != 202 {
		t.Fatalf("Flag: %d %s", code, resp)
	}
	reports, err := ti.svc.Reports(ctx, "seedbreeders")
	if err != nil || len(reports) != 1 || reports[0].Reason != "Please take a look at this user and their posts" {
		t.Fatalf("queue = %+v, %v", reports, err)
	}
	if _, err := ti.svc.ResolveReport(ctx, community.Operator("admin"), reports[0].ID, "ban"); err != nil {
		t.Fatal(err)
	}
	reporters.Wait(t, 1, wait, func(r fedtest.Received) bool {
		return r.Activity["type"] == "Delete" && r.Activity["object"] == alice.IRI+"/notes/spam"
	})
	reporters.Wait(t, 1, wait, func(r fedtest.Received) bool {
		return r.Activity["type"] == "Block" && r.Activity["object"] == alice.IRI && r.Activity["target"] == ours
	})
	if p, _ := ti.store.PostByIRI(ctx, alice.IRI+"/notes/spam"); p.DeletedAt.IsZero() {
		t.Errorf("reported post not removed")
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "again", ours, "", "still here", true, true)); code != 403 || !strings.Contains(body, "banned") {
		t.Errorf("banned author's new post: %d %s, want 403 banned", code, body)
	}
	f := alice.Follow(ours)
	if code, _ := alice.Post(t, ti.inbox("seedbreeders"), f); code != 202 {
		t.Errorf("banned actor's Follow: %d", code)
	}
	peer.Wait(t, 1, wait, isActivity("Reject", followID(t, f)))
	if _, err := ti.store.Follow(ctx, mustCommunity(t, ti, "seedbreeders").ID, alice.IRI); err == nil {
		t.Errorf("a banned actor became a follower again")
	}
}

// TestAllowlistMode: in allowlist mode only partners federate; a blocked
// host is refused before any fetch (SIG-18).
func TestAllowlistMode(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	partner := fedtest.New(t, fedtest.OnAddress("127.0.0.10"))
	stranger := fedtest.New(t, fedtest.OnAddress("127.0.0.11"))
	p, s := partner.NewActor("p"), stranger.NewActor("s")
	if err := ti.svc.SetDomainPolicy(ctx, partner.Host, "allow"); err != nil {
		t.Fatal(err)
	}
	if err := ti.svc.SetFederationMode(ctx, storage.ModeAllowlist); err != nil {
		t.Fatal(err)
	}
	if code, body := s.Post(t, ti.inbox("seedbreeders"), s.Follow(ti.actor("seedbreeders"))); code != 403 {
		t.Errorf("non-partner Follow: %d %s, want 403", code, body)
	}
	if n := stranger.Gets("/users/s"); n != 0 {
		t.Errorf("non-partner's key was fetched %d times, want 0", n)
	}
	member(t, ti, partner, p)
	if code, body := p.Post(t, ti.inbox("seedbreeders"), note(p, "1", ti.actor("seedbreeders"), "", "partner post", true, true)); code != 202 {
		t.Errorf("partner post: %d %s", code, body)
	}
	if err := ti.svc.SetFederationMode(ctx, storage.ModeOpen); err != nil {
		t.Fatal(err)
	}
	if err := ti.svc.SetDomainPolicy(ctx, stranger.Host, "block"); err != nil {
		t.Fatal(err)
	}
	req, err := s.SignedRequest(ti.inbox("seedbreeders"), s.Follow(ti.actor("seedbreeders")), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 || stranger.Gets("/users/s") != 0 {
		t.Errorf("blocked host: %d with %d key fetches, want 403 and none", res.StatusCode, stranger.Gets("/users/s"))
	}
}

// TestLedger counts contributions after a scripted sequence.
func TestLedger(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	alice, bob := peer.NewActor("alice"), peer.NewActor("bob")
	member(t, ti, peer, alice)
	member(t, ti, peer, bob)
	ours := ti.actor("seedbreeders")
	send := func(a *fedtest.Actor, body []byte) {
		t.Helper()
		if code, resp := a.Post(t, ti.inbox("seedbreeders"), body); code != 202 {
			t.Fatalf("%s: %d %s", body, code, resp)
		}
	}
	like := func(a *fedtest.Actor, id, object string) []byte {
		b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/likes/" + id, "type": "Like", "actor": a.IRI, "object": object})
		return b
	}
	send(alice, note(alice, "t1", ours, "", "thread one", true, true))
	send(alice, note(alice, "t2", ours, "", "thread two", true, true))
	send(bob, note(bob, "r1", ours, alice.IRI+"/notes/t1", "reply", true, false))
	send(bob, like(bob, "1", alice.IRI+"/notes/t1"))
	send(bob, like(bob, "2", alice.IRI+"/notes/t2"))
	send(bob, like(bob, "3", alice.IRI+"/notes/t2")) // the same like again counts once
	send(alice, note(alice, "res", ours, "", `<p>Seed cleaning <a href="https://seeds.example/clean">howto</a> #resource</p>`, true, true))
	c := mustCommunity(t, ti, "seedbreeders")
	_, proposed, _ := ti.svc.Resources(ctx, c, storage.ResourceProposed, 0, 10)
	if len(proposed) != 1 {
		t.Fatalf("proposed resources = %d, want 1", len(proposed))
	}
	if _, err := ti.svc.SetResourceState(ctx, proposed[0].IRI, storage.ResourcePublished, "admin"); err != nil {
		t.Fatal(err)
	}
	top, err := ti.svc.TopContributors(ctx, c, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]int{
		alice.IRI: {"thread": 2, "like_received": 2, "resource_proposed": 1, "resource_published": 1},
		bob.IRI:   {"reply": 1},
	}
	if len(top) != 2 || top[0].ActorIRI != alice.IRI {
		t.Fatalf("top contributors = %+v, want alice then bob", top)
	}
	for _, ctb := range top {
		for k, n := range want[ctb.ActorIRI] {
			if ctb.ByKind[k] != n {
				t.Errorf("%s %s = %d, want %d", ctb.ActorIRI, k, ctb.ByKind[k], n)
			}
		}
	}
	if top[0].Total != 6 || top[1].Total != 1 {
		t.Errorf("totals %d and %d, want 6 and 1", top[0].Total, top[1].Total)
	}
}

// TestGroupFollowAndBrokerShare: community B on a second Coppice instance
// follows community A; A's posts reach B's inbox but not B's members until
// a broker of B shares one, with provenance.
func TestGroupFollowAndBrokerShare(t *testing.T) {
	a := newInstance(t, true)
	b := newInstance(t, true)
	ctx := context.Background()
	if _, err := b.svc.CreateCommunity(ctx, community.NewCommunity{Name: "partners", Title: "Partner seed savers"}); err != nil {
		t.Fatal(err)
	}
	peer := fedtest.New(t)
	membersB := fedtest.New(t, fedtest.OnAddress("127.0.0.12"))
	alice := peer.NewActor("alice")
	bob, carol := membersB.NewActor("bob"), membersB.NewActor("carol")
	member(t, a, peer, alice)
	for _, m := range []*fedtest.Actor{bob, carol} {
		f := m.Follow(b.actor("partners"))
		if code, body := m.Post(t, b.inbox("partners"), f); code != 202 {
			t.Fatalf("Follow of partners: %d %s", code, body)
		}
		membersB.Wait(t, 1, wait, isActivity("Accept", followID(t, f)))
	}
	if err := b.svc.SetRole(ctx, community.Operator("admin"), "partners", carol.IRI, "broker"); err != nil {
		t.Fatal(err)
	}

	_, body := get(t, a.actor("seedbreeders"), "application/activity+json")
	target, err := federation.ParseActor(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := b.svc.FollowCommunity(ctx, "partners", target)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for {
		rs, _ := b.svc.RelatedCommunities(ctx, mustCommunity(t, b, "partners"))
		if len(rs) == 1 && rs[0].State == "accepted" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Group follow %s not accepted: %+v", rel.FollowIRI, rs)
		}
		<-time.After(20 * time.Millisecond)
	}
	_, body = get(t, b.actor("partners")+"/following?page=1", "application/activity+json")
	if items, _ := decode(t, body)["orderedItems"].([]any); len(items) != 1 || items[0] != a.actor("seedbreeders") {
		t.Errorf("following of partners = %v", items)
	}

	before := counts(t, b.store)["outbox_activities"]
	post := note(alice, "1", a.actor("seedbreeders"), "", "<p>Our seed list for 2027</p>", true, true)
	if code, body := alice.Post(t, a.inbox("seedbreeders"), post); code != 202 {
		t.Fatalf("alice's post: %d %s", code, body)
	}
	// B receives A's announces and records them, nothing more.
	deadline = time.Now().Add(wait)
	for counts(t, b.store)["inbox_activities"] < 3 {
		if time.Now().After(deadline) {
			t.Fatal("community B never received A's announces")
		}
		<-time.After(20 * time.Millisecond)
	}
	if after := counts(t, b.store)["outbox_activities"]; after != before {
		t.Errorf("B announced A's post to its own members without a broker (%d → %d)", before, after)
	}

	sh, err := b.svc.Share(ctx, "partners", alice.IRI+"/notes/1", a.actor("seedbreeders"), carol.IRI)
	if err != nil {
		t.Fatal(err)
	}
	got := membersB.Wait(t, 1, wait, func(r fedtest.Received) bool {
		return r.Activity["type"] == "Announce" && r.Activity["id"] == sh.ActivityIRI
	})
	act := got[0].Activity
	if act["object"] != alice.IRI+"/notes/1" || act["origin"] != a.actor("seedbreeders") || act["actor"] != b.actor("partners") || got[0].Err != nil {
		t.Errorf("shared Announce = %v (%v)", act, got[0].Err)
	}
	if _, err := b.svc.Share(ctx, "partners", alice.IRI+"/notes/1", "", bob.IRI); err == nil {
		t.Errorf("a plain member could share")
	}
}

// TestCommunityPageShowsPeople: roles, contributors and the moderation log
// on the public pages; a member page lists contributions and roles.
func TestCommunityPageShowsPeople(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	alice, mod := peer.NewActor("alice"), peer.NewActor("mod")
	member(t, ti, peer, alice)
	member(t, ti, peer, mod)
	if err := ti.svc.SetRole(ctx, community.Operator("admin"), "seedbreeders", mod.IRI, "moderator"); err != nil {
		t.Fatal(err)
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ti.actor("seedbreeders"), "", "first thread", true, true)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	_, page := get(t, ti.actor("seedbreeders"), "text/html")
	for _, want := range []string{"@mod@" + peer.Host, "moderator", "@alice@" + peer.Host, "1 thread", "Moderation log"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("community page lacks %q", want)
		}
	}
	_, page = get(t, ti.actor("seedbreeders")+"/moderation", "text/html")
	if !strings.Contains(string(page), "role moderator") {
		t.Errorf("moderation log page lacks the role change")
	}
	_, page = get(t, ti.URL+"/members?actor="+url.QueryEscape(alice.IRI), "text/html")
	if !strings.Contains(string(page), "Seed breeders") || !strings.Contains(string(page), "1 thread") {
		t.Errorf("member page of alice:\n%s", page)
	}
}

// TestGRP13GroupActionsOnlyFromModerators: Remove and Block in a
// community, and the Delete of another member's post, from an account of
// another instance (an admin there, nobody here) are refused with 403 and
// change nothing; the community's remote moderator's are taken (202).
func TestGRP13GroupActionsOnlyFromModerators(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	otherInstance := fedtest.New(t, fedtest.OnAddress("127.0.0.66"))
	modHost := fedtest.New(t, fedtest.OnAddress("127.0.0.67"))
	alice, admin, mod := peer.NewActor("alice"), otherInstance.NewActor("admin"), modHost.NewActor("mod")
	member(t, ti, peer, alice)
	member(t, ti, otherInstance, admin)
	member(t, ti, modHost, mod)
	if err := ti.svc.SetRole(ctx, community.Operator("admin"), "seedbreeders", mod.IRI, "moderator"); err != nil {
		t.Fatal(err)
	}
	ours := ti.actor("seedbreeders")
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ours, "", "a thread", true, true)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	activity := func(a *fedtest.Actor, typ, id string, object, target any) []byte {
		m := map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/activities/" + id, "type": typ, "actor": a.IRI,
			"to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []any{ours}, "object": object, "audience": ours}
		if target != nil {
			m["target"] = target
		}
		b, _ := json.Marshal(m)
		return b
	}
	for _, tc := range []struct {
		name string
		body func(a *fedtest.Actor, id string) []byte
	}{
		{"Block of a member", func(a *fedtest.Actor, id string) []byte {
			return activity(a, "Block", "block-"+id, alice.IRI, ours)
		}},
		{"Remove of a moderator", func(a *fedtest.Actor, id string) []byte {
			return activity(a, "Remove", "remove-mod-"+id, mod.IRI, ours+"/moderators")
		}},
		{"Remove of a post from featured", func(a *fedtest.Actor, id string) []byte {
			return activity(a, "Remove", "remove-post-"+id, alice.IRI+"/notes/1", ours+"/featured")
		}},
		{"Delete of another member's post", func(a *fedtest.Actor, id string) []byte {
			return activity(a, "Delete", "delete-"+id, alice.IRI+"/notes/1", nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := stored(t, ti.store)
			for _, inbox := range []string{ti.sharedInbox(), ti.inbox("seedbreeders")} {
				if code, body := admin.Post(t, inbox, tc.body(admin, inbox[len(inbox)-6:])); code != http.StatusForbidden {
					t.Errorf("from an admin of another instance, to %s: %d %s, want 403", inbox, code, body)
				}
			}
			if after := stored(t, ti.store); !reflect.DeepEqual(before, after) {
				t.Errorf("rows %v after the refusals, %v before", after, before)
			}
			if p, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/1"); err != nil || !p.DeletedAt.IsZero() {
				t.Errorf("alice's post after the refusals: deleted at %v (%v)", p.DeletedAt, err)
			}
		})
	}
	// The community's moderator's Block and Remove are taken.
	for _, body := range [][]byte{activity(mod, "Block", "block-1", alice.IRI, ours), activity(mod, "Remove", "remove-1", alice.IRI+"/notes/1", ours+"/featured")} {
		if code, resp := mod.Post(t, ti.sharedInbox(), body); code != http.StatusAccepted {
			t.Errorf("the moderator's %s: %d %s, want 202", body, code, resp)
		}
	}
}

// TestRemoteModeratorBanAndPin: a remote moderator's Block{member,
// target: the community} (Lemmy's ban) bans the member here: their
// membership ends, the group's Block reaches the followers, their next
// post is refused; the same Block again changes nothing. Their
// Add{post, target: featured} pins its thread and Remove unpins it; a
// member's Add to featured is refused.
func TestRemoteModeratorBanAndPin(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	followers := fedtest.New(t, fedtest.OnAddress("127.0.0.68"))
	modHost := fedtest.New(t, fedtest.OnAddress("127.0.0.69"))
	alice, bob, mod := peer.NewActor("alice"), followers.NewActor("bob"), modHost.NewActor("mod")
	for _, m := range []struct {
		in *fedtest.Instance
		a  *fedtest.Actor
	}{{peer, alice}, {followers, bob}, {modHost, mod}} {
		member(t, ti, m.in, m.a)
	}
	if err := ti.svc.SetRole(ctx, community.Operator("admin"), "seedbreeders", mod.IRI, "moderator"); err != nil {
		t.Fatal(err)
	}
	ours := ti.actor("seedbreeders")
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ours, "", "pin me", true, true)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	activity := func(a *fedtest.Actor, typ, id string, object, target string) []byte {
		b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/activities/" + id, "type": typ,
			"actor": a.IRI, "to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []any{ours}, "object": object, "target": target,
			"audience": ours, "summary": "spam"})
		return b
	}
	pinned := func() bool {
		p, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/1")
		if err != nil {
			t.Fatal(err)
		}
		th, err := ti.store.ThreadByID(ctx, p.ThreadID)
		if err != nil {
			t.Fatal(err)
		}
		return th.Pinned
	}
	if code, _ := alice.Post(t, ti.sharedInbox(), activity(alice, "Add", "pin-0", alice.IRI+"/notes/1", ours+"/featured")); code != 403 {
		t.Errorf("a member's Add to featured: %d, want 403", code)
	}
	if code, body := mod.Post(t, ti.sharedInbox(), activity(mod, "Add", "pin-1", alice.IRI+"/notes/1", ours+"/featured")); code != 202 || !pinned() {
		t.Errorf("the moderator's Add to featured: %d %s, pinned %v; want 202 and pinned", code, body, pinned())
	}
	if code, body := mod.Post(t, ti.sharedInbox(), activity(mod, "Remove", "unpin-1", alice.IRI+"/notes/1", ours+"/featured")); code != 202 || pinned() {
		t.Errorf("the moderator's Remove from featured: %d %s, pinned %v; want 202 and unpinned", code, body, pinned())
	}

	block := activity(mod, "Block", "ban-1", alice.IRI, ours)
	if code, body := mod.Post(t, ti.sharedInbox(), block); code != 202 {
		t.Fatalf("the moderator's Block: %d %s", code, body)
	}
	c, err := ti.store.CommunityByName(ctx, "seedbreeders")
	if err != nil {
		t.Fatal(err)
	}
	if banned, err := ti.store.IsBanned(ctx, c.ID, alice.IRI); err != nil || !banned {
		t.Errorf("alice banned = %v, %v; want banned", banned, err)
	}
	if _, err := ti.store.Follow(ctx, c.ID, alice.IRI); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("alice is still a member (%v)", err)
	}
	got := followers.Wait(t, 1, wait, func(r fedtest.Received) bool {
		return r.Activity["type"] == "Block" && r.Activity["object"] == alice.IRI
	})
	if got[0].Err != nil || got[0].Activity["actor"] != ours {
		t.Errorf("the followers got %v (%v), want the group's Block of alice", got[0].Activity, got[0].Err)
	}
	before := stored(t, ti.store)
	if code, _ := mod.Post(t, ti.sharedInbox(), block); code != 202 {
		t.Errorf("the same Block again: %d, want 202", code)
	}
	if after := stored(t, ti.store); !reflect.DeepEqual(before, after) {
		t.Errorf("the same Block again changed rows: %v -> %v", before, after)
	}
	if code, _ := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "2", ours, "", "after the ban", true, true)); code != 403 {
		t.Errorf("a post by the banned member: %d, want 403", code)
	}

	// Undo{Block}: from a member it is refused; from the moderator it
	// lifts the ban and the followers hear of it.
	undo := func(a *fedtest.Actor, id string) []byte {
		var inner map[string]any
		_ = json.Unmarshal(activity(a, "Block", "ban-"+id, alice.IRI, ours), &inner)
		b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/activities/unban-" + id, "type": "Undo",
			"actor": a.IRI, "to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []any{ours}, "object": inner})
		return b
	}
	if code, _ := bob.Post(t, ti.sharedInbox(), undo(bob, "1")); code != 403 {
		t.Errorf("a member's Undo{Block}: %d, want 403", code)
	}
	if banned, _ := ti.store.IsBanned(ctx, c.ID, alice.IRI); !banned {
		t.Error("a member's Undo{Block} lifted the ban")
	}
	if code, body := mod.Post(t, ti.sharedInbox(), undo(mod, "1")); code != 202 {
		t.Fatalf("the moderator's Undo{Block}: %d %s", code, body)
	}
	if banned, _ := ti.store.IsBanned(ctx, c.ID, alice.IRI); banned {
		t.Error("alice still banned after the moderator's Undo{Block}")
	}
	followers.Wait(t, 1, wait, func(r fedtest.Received) bool {
		obj, _ := r.Activity["object"].(map[string]any)
		return r.Activity["type"] == "Undo" && obj["type"] == "Block" && obj["object"] == alice.IRI
	})
}

// TestRemoteModeratorLockAndReportForwarding: a remote moderator's Lock
// (Lemmy's shape) locks the thread, a member's is refused; a report is
// forwarded to the moderator's instance; silenced hosts' posts are kept
// but not announced, reject_media drops their images.
func TestRemoteModeratorLockAndReportForwarding(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	modHost := fedtest.New(t, fedtest.OnAddress("127.0.0.13"))
	alice, mod := peer.NewActor("alice"), modHost.NewActor("mod")
	member(t, ti, peer, alice)
	member(t, ti, modHost, mod)
	if err := ti.svc.SetRole(ctx, community.Operator("admin"), "seedbreeders", mod.IRI, "moderator"); err != nil {
		t.Fatal(err)
	}
	ours := ti.actor("seedbreeders")
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "1", ours, "", "lock me", true, true)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	lock := func(a *fedtest.Actor, id string) []byte {
		b, _ := json.Marshal(map[string]any{"id": a.IRI + "/activities/lock/" + id, "actor": a.IRI, "to": []any{"https://www.w3.org/ns/activitystreams#Public"},
			"object": alice.IRI + "/notes/1", "cc": []any{ours}, "type": "Lock", "summary": "A reason for the lock", "audience": ours})
		return b
	}
	if code, _ := alice.Post(t, ti.sharedInbox(), lock(alice, "1")); code != 403 {
		t.Errorf("a member's Lock: %d, want 403", code)
	}
	if code, body := mod.Post(t, ti.sharedInbox(), lock(mod, "2")); code != 202 {
		t.Fatalf("the moderator's Lock: %d %s", code, body)
	}
	p, _ := ti.store.PostByIRI(ctx, alice.IRI+"/notes/1")
	if th, _ := ti.store.ThreadByID(ctx, p.ThreadID); !th.Locked {
		t.Errorf("thread not locked by the moderator's Lock")
	}

	flag, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": alice.IRI + "/flags/1", "type": "Flag", "actor": alice.IRI,
		"object": []any{alice.IRI + "/notes/1"}, "content": "testing reports"})
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), flag); code != 202 {
		t.Fatalf("Flag: %d %s", code, body)
	}
	got := modHost.Wait(t, 1, wait, func(r fedtest.Received) bool { return r.Activity["type"] == "Flag" })
	if got[0].Err != nil || got[0].Activity["actor"] != ours || got[0].Activity["content"] != "testing reports" {
		t.Errorf("forwarded Flag = %v (%v)", got[0].Activity, got[0].Err)
	}

	if err := ti.svc.SetDomainPolicy(ctx, peer.Host, "silence"); err != nil {
		t.Fatal(err)
	}
	before := counts(t, ti.store)["outbox_activities"]
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "2", ours, "", "quiet please", true, true)); code != 202 {
		t.Fatalf("silenced post: %d %s", code, body)
	}
	if _, err := ti.store.PostByIRI(ctx, alice.IRI+"/notes/2"); err != nil {
		t.Errorf("silenced post not kept: %v", err)
	}
	if after := counts(t, ti.store)["outbox_activities"]; after != before {
		t.Errorf("silenced post announced (%d → %d)", before, after)
	}
	if err := ti.svc.SetDomainPolicy(ctx, peer.Host, "reject_media"); err != nil {
		t.Fatal(err)
	}
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "3", ours, "", `<p>look <img src="https://img.example/x.png" alt="x"></p>`, true, true)); code != 202 {
		t.Fatalf("post with an image: %d %s", code, body)
	}
	if p, _ := ti.store.PostByIRI(ctx, alice.IRI+"/notes/3"); strings.Contains(p.Content, "<img") || !strings.Contains(p.Content, "look") {
		t.Errorf("reject_media content = %q", p.Content)
	}
}

// TestSmallCollectionsInline: Lemmy reads moderators and featured with
// their items inline.
func TestSmallCollectionsInline(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	mod := peer.NewActor("mod")
	member(t, ti, peer, mod)
	if err := ti.svc.SetRole(ctx, community.Operator("admin"), "seedbreeders", mod.IRI, "owner"); err != nil {
		t.Fatal(err)
	}
	_, body := get(t, ti.actor("seedbreeders")+"/moderators", "application/activity+json")
	m := decode(t, body)
	if items, _ := m["orderedItems"].([]any); m["type"] != "OrderedCollection" || len(items) != 1 || items[0] != mod.IRI || m["totalItems"] != float64(1) {
		t.Errorf("moderators = %v", m)
	}
	_, body = get(t, ti.actor("seedbreeders")+"/featured", "application/activity+json")
	if items, ok := decode(t, body)["orderedItems"].([]any); !ok || len(items) != 0 {
		t.Errorf("featured has no inline orderedItems: %s", body)
	}
}

// TestProfileChangesFederate: a change of the community's rules reaches
// followers as Update{Group}.
func TestProfileChangesFederate(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	bob := peer.NewActor("bob")
	member(t, ti, peer, bob)
	if _, err := ti.svc.UpdateSettings(ctx, "seedbreeders", community.Settings{PostingPolicy: "moderators", BoostReplies: true}); err != nil {
		t.Fatal(err)
	}
	got := peer.Wait(t, 1, wait, typed("Update", func(o map[string]any) bool { return o["id"] == ti.actor("seedbreeders") }))
	if g := got[0].Activity["object"].(map[string]any); g["type"] != "Group" || g["postingRestrictedToMods"] != true || got[0].Err != nil {
		t.Errorf("Update{Group} object = %v (%v)", g, got[0].Err)
	}
}

// TestRulesAreShownAndFederated: rules edited in the console reach the
// public page and, inside the Group's summary, the followers.
func TestRulesAreShownAndFederated(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	bob := peer.NewActor("bob")
	member(t, ti, peer, bob)
	_, err := ti.svc.EditCommunity(ctx, "seedbreeders", community.CommunityEdit{Title: "Seed breeders", Summary: "Open-pollinated seed breeding.",
		Rules: "Share what worked and what did not.\n\nNo selling.", JoinMode: "open"})
	if err != nil {
		t.Fatal(err)
	}
	_, page := get(t, ti.actor("seedbreeders"), "text/html")
	if !strings.Contains(string(page), "<h3>Rules</h3>") || !strings.Contains(string(page), "<p>No selling.</p>") {
		t.Errorf("community page lacks the rules")
	}
	got := peer.Wait(t, 1, wait, typed("Update", func(o map[string]any) bool { return o["id"] == ti.actor("seedbreeders") }))
	if sum, _ := got[0].Activity["object"].(map[string]any)["summary"].(string); !strings.Contains(sum, "<strong>Rules</strong>") || !strings.Contains(sum, "No selling.") {
		t.Errorf("Group summary = %q, want the rules in it", sum)
	}
	if _, err := ti.svc.EditCommunity(ctx, "seedbreeders", community.CommunityEdit{Title: "x", Rules: strings.Repeat("r", 5001), JoinMode: "open"}); err == nil {
		t.Errorf("rules of 5001 characters accepted")
	}
}

// TestActorUpdateAndAccountDeletion: Mastodon's Update{Person} refreshes
// our copy of the actor; an Update of someone else is refused; the Delete
// of an account by itself ends its memberships.
func TestActorUpdateAndAccountDeletion(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	alice, bob := peer.NewActor("alice"), peer.NewActor("bob")
	member(t, ti, peer, alice)
	member(t, ti, peer, bob)

	raw, err := os.ReadFile("testdata/actors/mastodon-update.json")
	if err != nil {
		t.Fatal(err)
	}
	var upd map[string]any
	_ = json.Unmarshal(raw, &upd)
	var doc map[string]any
	_ = json.Unmarshal(alice.ActorJSON(), &doc)
	doc["name"] = "Alice Gardener"
	delete(doc, "@context")
	upd["object"], upd["actor"], upd["id"] = doc, alice.IRI, alice.IRI+"#updates/1"
	body, _ := json.Marshal(upd)
	if code, resp := alice.Post(t, ti.sharedInbox(), body); code != 202 {
		t.Fatalf("Update{Person}: %d %s", code, resp)
	}
	if a, _ := ti.store.ActorByIRI(ctx, alice.IRI); a.Name != "Alice Gardener" {
		t.Errorf("actor name after Update = %q", a.Name)
	}
	var forged map[string]any
	_ = json.Unmarshal(bob.ActorJSON(), &forged)
	forged["name"] = "Bob the impostor"
	upd["object"], upd["id"] = forged, alice.IRI+"#updates/2"
	body, _ = json.Marshal(upd)
	if code, _ := alice.Post(t, ti.sharedInbox(), body); code != 202 && code != 403 {
		t.Errorf("Update of bob by alice: %d", code)
	}
	if a, _ := ti.store.ActorByIRI(ctx, bob.IRI); a.Name == "Bob the impostor" {
		t.Errorf("alice changed bob's profile")
	}

	raw, err = os.ReadFile("testdata/actors/mastodon-delete-user.json")
	if err != nil {
		t.Fatal(err)
	}
	var del map[string]any
	_ = json.Unmarshal(raw, &del)
	del["actor"], del["id"] = alice.IRI, alice.IRI+"#delete"
	del["object"].(map[string]any)["id"] = alice.IRI
	body, _ = json.Marshal(del)
	if code, resp := alice.Post(t, ti.sharedInbox(), body); code != 202 {
		t.Fatalf("Delete of the account: %d %s", code, resp)
	}
	c := mustCommunity(t, ti, "seedbreeders")
	if _, err := ti.store.Follow(ctx, c.ID, alice.IRI); err == nil {
		t.Errorf("a deleted account is still a member")
	}
	if _, err := ti.store.Follow(ctx, c.ID, bob.IRI); err != nil {
		t.Errorf("bob lost his membership: %v", err)
	}
}

// TestGRP11DeleteOfAnotherAccount: Delete{Person alice} signed by bob, by
// IRI or embedded, is refused with 403 and alice stays a member; only an
// account deletes itself (SWICG #55).
func TestGRP11DeleteOfAnotherAccount(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	alice, bob := peer.NewActor("alice"), peer.NewActor("bob")
	member(t, ti, peer, alice)
	member(t, ti, peer, bob)
	c := mustCommunity(t, ti, "seedbreeders")
	for i, object := range []any{alice.IRI, map[string]any{"id": alice.IRI, "type": "Person"}} {
		before := counts(t, ti.store)
		body, _ := json.Marshal(map[string]any{
			"@context": "https://www.w3.org/ns/activitystreams", "type": "Delete",
			"id": fmt.Sprintf("%s#delete-alice-%d", bob.IRI, i), "actor": bob.IRI, "object": object,
			"to": []string{"https://www.w3.org/ns/activitystreams#Public"},
		})
		if code, resp := bob.Post(t, ti.sharedInbox(), body); code != 403 {
			t.Errorf("Delete of alice by bob (object %v): %d %s, want 403", object, code, resp)
		}
		if _, err := ti.store.Follow(ctx, c.ID, alice.IRI); err != nil {
			t.Errorf("alice lost her membership to bob's Delete: %v", err)
		}
		after := counts(t, ti.store)
		// The worker may still be sending the members' Accepts meanwhile:
		// the delivery queue is not the Delete's to change.
		for _, k := range []string{"deliveries", "fan_outs", "hosts"} {
			delete(before, k)
			delete(after, k)
		}
		for k, v := range before {
			if after[k] != v {
				t.Errorf("%s went from %d to %d", k, v, after[k])
			}
		}
	}
}

// TestRemoteModeratorsAppointAndDismiss: Lemmy's Add and Remove of a
// moderator (its real payloads, moved onto the harness) from a moderator
// on another server appoint and dismiss moderators here, and reach the
// followers as the group's own Add and Remove; from anyone else, of the
// owner, or of someone who is no member, they are refused and change
// nothing.
func TestRemoteModeratorsAppointAndDismiss(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	modHost := fedtest.New(t, fedtest.OnAddress("127.0.0.72"))
	alice, bob, owner, mod := peer.NewActor("alice"), peer.NewActor("bob"), peer.NewActor("owner"), modHost.NewActor("mod")
	for _, m := range []struct {
		in *fedtest.Instance
		a  *fedtest.Actor
	}{{peer, alice}, {peer, bob}, {peer, owner}, {modHost, mod}} {
		member(t, ti, m.in, m.a)
	}
	for iri, role := range map[string]string{mod.IRI: "moderator", owner.IRI: "owner"} {
		if err := ti.svc.SetRole(ctx, community.Operator("admin"), "seedbreeders", iri, role); err != nil {
			t.Fatal(err)
		}
	}
	c, err := ti.store.CommunityByName(ctx, "seedbreeders")
	if err != nil {
		t.Fatal(err)
	}
	ours := ti.actor("seedbreeders")
	lemmy := func(file string, by *fedtest.Actor, id, object string) []byte {
		raw, err := os.ReadFile("testdata/moderation/lemmy_" + file + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var a map[string]any
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		a["id"], a["actor"], a["object"] = by.IRI+"/activities/"+id, by.IRI, object
		a["target"], a["cc"], a["audience"] = ours+"/moderators", []any{ours}, ours
		b, _ := json.Marshal(a)
		return b
	}
	role := func(iri string) string {
		r, err := ti.store.Role(ctx, c.ID, iri)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// A member's Add is refused.
	before := stored(t, ti.store)
	if code, _ := alice.Post(t, ti.sharedInbox(), lemmy("add_mod", alice, "add-0", alice.IRI)); code != 403 {
		t.Errorf("a member's Add of themselves: %d, want 403", code)
	}
	if after := stored(t, ti.store); role(alice.IRI) != "member" || !reflect.DeepEqual(before, after) {
		t.Errorf("after a member's Add: alice is %s, rows %v -> %v", role(alice.IRI), before, after)
	}

	// The moderator appoints alice; the followers hear of it.
	if code, body := mod.Post(t, ti.sharedInbox(), lemmy("add_mod", mod, "add-1", alice.IRI)); code != 202 || role(alice.IRI) != "moderator" {
		t.Fatalf("the moderator's Add of alice: %d %s, alice is %s; want 202 and moderator", code, body, role(alice.IRI))
	}
	got := peer.Wait(t, 1, wait, func(r fedtest.Received) bool {
		return r.Activity["type"] == "Add" && r.Activity["object"] == alice.IRI
	})
	if got[0].Err != nil || got[0].Activity["actor"] != ours || got[0].Activity["target"] != ours+"/moderators" {
		t.Errorf("the followers got %v (%v), want the group's Add of alice to its moderators", got[0].Activity, got[0].Err)
	}
	before = stored(t, ti.store)
	if code, _ := mod.Post(t, ti.sharedInbox(), lemmy("add_mod", mod, "add-1", alice.IRI)); code != 202 {
		t.Errorf("the same Add again: %d, want 202", code)
	}
	if after := stored(t, ti.store); !reflect.DeepEqual(before, after) {
		t.Errorf("the same Add again changed rows: %v -> %v", before, after)
	}

	// Alice, now a moderator, dismisses mod; the followers hear of it.
	if code, body := alice.Post(t, ti.sharedInbox(), lemmy("remove_mod", alice, "remove-1", mod.IRI)); code != 202 || role(mod.IRI) != "member" {
		t.Fatalf("alice's Remove of mod: %d %s, mod is %s; want 202 and member", code, body, role(mod.IRI))
	}
	peer.Wait(t, 1, wait, func(r fedtest.Received) bool {
		return r.Activity["type"] == "Remove" && r.Activity["object"] == mod.IRI && r.Activity["actor"] == ours
	})
	// mod is no moderator now: their Add is refused.
	if code, _ := mod.Post(t, ti.sharedInbox(), lemmy("add_mod", mod, "add-2", bob.IRI)); code != 403 || role(bob.IRI) != "member" {
		t.Errorf("a dismissed moderator's Add of bob: %d, bob is %s; want 403 and member", code, role(bob.IRI))
	}

	// The owner is not dismissed from another server; nor is anyone who
	// is no member appointed.
	before = stored(t, ti.store)
	if code, _ := alice.Post(t, ti.sharedInbox(), lemmy("remove_mod", alice, "remove-2", owner.IRI)); code != 403 || role(owner.IRI) != "owner" {
		t.Errorf("alice's Remove of the owner: %d, owner is %s; want 403 and owner", code, role(owner.IRI))
	}
	stranger := peer.NewActor("stranger")
	if code, _ := alice.Post(t, ti.sharedInbox(), lemmy("add_mod", alice, "add-3", stranger.IRI)); code != 403 {
		t.Errorf("alice's Add of someone who is no member: %d, want 403", code)
	}
	if after := stored(t, ti.store); !reflect.DeepEqual(before, after) {
		t.Errorf("refused Add and Remove changed rows: %v -> %v", before, after)
	}
	// Removing a member who moderates nothing changes nothing.
	if code, _ := alice.Post(t, ti.sharedInbox(), lemmy("remove_mod", alice, "remove-3", bob.IRI)); code != 202 || role(bob.IRI) != "member" {
		t.Errorf("alice's Remove of bob, a member: %d, bob is %s; want 202 and member", code, role(bob.IRI))
	}
}
