package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// signedIn signs a browser in as actor through the direct-message link.
func signedIn(t *testing.T, ti *testInstance, peer *fedtest.Instance, actor *fedtest.Actor, n int) *browser {
	t.Helper()
	b := newBrowser(t)
	if code, body := b.askLink(ti, "@"+actor.Name+"@"+peer.Host); code != http.StatusOK {
		t.Fatalf("ask for a link: %d %.300s", code, body)
	}
	_, link := signInMessage(t, peer, actor, n)
	if code, body := b.get(link); code != http.StatusOK || !strings.Contains(body, "Signed in as") {
		t.Fatalf("open the link: %d %.300s", code, body)
	}
	return b
}

// TestSignedInMembersActOnTheSite: a member signed in with her fediverse
// account writes a wiki page, votes in a decision, answers a meeting and
// proposes a resource; each federates as if done from the fediverse, and
// a signed-in stranger can do none of it (issue 15, part 2).
func TestSignedInMembersActOnTheSite(t *testing.T) {
	ti := newSignInInstance(t, newClock())
	ctx := context.Background()
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.22"))
	followers := fedtest.New(t, fedtest.OnAddress("127.0.0.23"))
	alice, stranger := peer.NewActor("alice"), peer.NewActor("stranger")
	member(t, ti, peer, alice)
	member(t, ti, followers, followers.NewActor("bob"))
	b := signedIn(t, ti, peer, alice, 1)

	// The wiki.
	csrf := b.csrf(ti.URL + "/c/seedbreeders/wiki/new/edit")
	code, body := b.post(ti.URL+"/c/seedbreeders/wiki/new/edit", url.Values{"csrf": {csrf}, "title": {"Rye trials"}, "body": {"Three seasons of **rye**."}, "base": {"0"}})
	if code != http.StatusOK || !strings.Contains(body, "<strong>rye</strong>") {
		t.Fatalf("save a new page: %d %.300s", code, body)
	}
	page := ti.actor("seedbreeders") + "/wiki/rye-trials"
	got := followers.Wait(t, 1, wait, createdOrUpdated("Create", page))
	if art := got[0].Activity["object"].(map[string]any); art["attributedTo"] != ti.actor("seedbreeders") || art["contributor"] != alice.IRI {
		t.Errorf("Create{Article} = %v, want the community as author and alice credited", art)
	}
	if !strings.Contains(body, alice.IRI) {
		t.Errorf("the page does not credit alice")
	}
	csrf = b.csrf(ti.URL + "/c/seedbreeders/wiki/rye-trials/edit")
	if code, _ := b.post(ti.URL+"/c/seedbreeders/wiki/rye-trials/edit", url.Values{"csrf": {csrf}, "title": {"Rye trials"}, "body": {"Four seasons."}, "base": {"0"}}); code != http.StatusConflict {
		t.Errorf("save over a newer revision: %d, want 409", code)
	}
	if code, _ := b.post(ti.URL+"/c/seedbreeders/wiki/rye-trials/edit", url.Values{"title": {"Rye trials"}, "body": {"No token."}, "base": {"1"}}); code != http.StatusForbidden {
		t.Errorf("save without the CSRF token: %d, want 403", code)
	}

	// A decision.
	d, err := ti.svc.OpenDecision(ctx, community.Operator("ada"), "seedbreeders", community.NewDecision{
		Question: "Next trial crop?", Options: []string{"Rye", "Oats"}, Closes: time.Now().Add(48 * time.Hour), TimeZone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	csrf = b.csrf(d.IRI)
	if code, body := b.post(d.IRI+"/vote", url.Values{"csrf": {csrf}, "option": {"Oats"}}); code != http.StatusOK || !strings.Contains(body, "1 member voted") {
		t.Errorf("vote: %d %.300s", code, body)
	}
	if code, _ := b.post(d.IRI+"/vote", url.Values{"csrf": {csrf}, "option": {"Barley"}}); code != http.StatusBadRequest {
		t.Errorf("vote for an unknown option: %d, want 400", code)
	}

	// A meeting.
	start := time.Now().Add(24 * time.Hour).Truncate(time.Minute)
	m, err := ti.svc.CreateMeeting(ctx, "seedbreeders", community.NewMeeting{Title: "Field day", Start: start, End: start.Add(2 * time.Hour), TimeZone: "UTC", Place: "The farm", By: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	csrf = b.csrf(m.IRI)
	if code, _ := b.post(m.IRI+"/answer", url.Values{"csrf": {csrf}, "answer": {"going"}}); code != http.StatusOK {
		t.Errorf("answer: %d", code)
	}
	if mv, _ := ti.svc.Meeting(ctx, m.IRI); mv.Counts.Going != 1 {
		t.Errorf("going = %d, want 1", mv.Counts.Going)
	}

	// A resource proposal.
	csrf = b.csrf(ti.URL + "/c/seedbreeders/propose")
	if code, body := b.post(ti.URL+"/c/seedbreeders/propose", url.Values{"csrf": {csrf}, "kind": {"link"}, "title": {"Rye seed standards"}, "url": {"https://seeds.example/rye"}}); code != http.StatusOK || !strings.Contains(body, "waits for a moderator") {
		t.Errorf("propose: %d %.300s", code, body)
	}
	_, rs, err := ti.svc.Resources(ctx, mustCommunity(t, ti, "seedbreeders"), storage.ResourceProposed, 0, 10)
	if err != nil || len(rs) != 1 || rs[0].ProposedBy != alice.IRI {
		t.Errorf("proposals = %+v, %v; want one by alice", rs, err)
	}

	// A signed-in stranger may do none of it, and nothing is stored.
	before, _ := ti.store.RowCounts(ctx)
	s := signedIn(t, ti, peer, stranger, 1)
	csrf = s.csrf(ti.URL + "/c/seedbreeders/wiki/new/edit")
	if code, body := s.post(ti.URL+"/c/seedbreeders/wiki/new/edit", url.Values{"csrf": {csrf}, "title": {"Spam"}, "body": {"spam"}, "base": {"0"}}); code != http.StatusForbidden || !strings.Contains(body, "only members") {
		t.Errorf("a stranger's page: %d %.300s", code, body)
	}
	csrf = s.csrf(d.IRI)
	if code, _ := s.post(d.IRI+"/vote", url.Values{"csrf": {csrf}, "option": {"Rye"}}); code != http.StatusForbidden {
		t.Errorf("a stranger's vote: %d, want 403", code)
	}
	csrf = s.csrf(m.IRI)
	if code, _ := s.post(m.IRI+"/answer", url.Values{"csrf": {csrf}, "answer": {"going"}}); code != http.StatusForbidden {
		t.Errorf("a stranger's answer: %d, want 403", code)
	}
	after, _ := ti.store.RowCounts(ctx)
	if after["outbox_activities"] != before["outbox_activities"]+1 { // the stranger's sign-in message only
		t.Errorf("the stranger's attempts queued %d activities", after["outbox_activities"]-before["outbox_activities"]-1)
	}
	if v, _ := ti.svc.Decision(ctx, d.IRI); v.Tally.Voters != 1 {
		t.Errorf("voters = %d, want 1", v.Tally.Voters)
	}
}
