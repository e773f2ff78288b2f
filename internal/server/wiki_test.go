package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
)

func createdOrUpdated(verb, id string) func(fedtest.Received) bool {
	return typed(verb, func(o map[string]any) bool { return o["id"] == id })
}

func TestWikiPagesFederateAsArticles(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.2"))
	followers := fedtest.New(t, fedtest.OnAddress("127.0.0.3"))
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)
	member(t, ti, followers, followers.NewActor("bob"))

	// The operator writes the first revision: Create{Article}.
	page, err := ti.svc.EditWiki(ctx, community.Operator("ada"), "seedbreeders", community.WikiEdit{
		Title: "Seed saving basics", Body: "# Seed saving\n\nDry seeds **well**.\n", Summary: "first draft",
	})
	if err != nil {
		t.Fatal(err)
	}
	if page.Slug != "seed-saving-basics" || page.IRI != ti.actor("seedbreeders")+"/wiki/seed-saving-basics" || page.Revision != 1 {
		t.Fatalf("page = %+v", page)
	}
	got := followers.Wait(t, 1, wait, createdOrUpdated("Create", page.IRI))
	art := got[0].Activity["object"].(map[string]any)
	if art["type"] != "Article" || art["attributedTo"] != ti.actor("seedbreeders") || art["name"] != "Seed saving basics" || !strings.Contains(art["content"].(string), "<strong>well</strong>") {
		t.Errorf("Create{Article} object = %v", art)
	}
	if got[0].Err != nil {
		t.Errorf("the Create does not authenticate: %v", got[0].Err)
	}

	// A member edits revision 1: Update{Article} crediting her.
	page, err = ti.svc.EditWiki(ctx, community.Member(alice.IRI), "seedbreeders", community.WikiEdit{
		Slug: "seed-saving-basics", Title: "Seed saving basics", Body: "# Seed saving\n\nDry seeds well.\nLabel every packet.\n", Summary: "labels", Base: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	got = followers.Wait(t, 1, wait, createdOrUpdated("Update", page.IRI))
	art = got[0].Activity["object"].(map[string]any)
	if art["contributor"] != alice.IRI || art["updated"] == nil {
		t.Errorf("Update{Article} object = %v, want alice as contributor and updated", art)
	}

	// Saving over a newer revision than the one edited is refused, with
	// the difference shown; nothing is stored.
	_, err = ti.svc.EditWiki(ctx, community.Member(alice.IRI), "seedbreeders", community.WikiEdit{
		Slug: "seed-saving-basics", Title: "Seed saving basics", Body: "stale text", Base: 1,
	})
	var conflict *community.WikiConflict
	if !errors.As(err, &conflict) || conflict.Current.Number != 2 || len(conflict.Diff) == 0 {
		t.Errorf("stale save = %v, want a conflict at revision 2 with a diff", err)
	}

	// Peers fetch the page and the wiki collection.
	res, body := get(t, page.IRI, "application/activity+json")
	doc := decode(t, body)
	if res.StatusCode != 200 || doc["type"] != "Article" || !strings.Contains(doc["content"].(string), "Label every packet") {
		t.Errorf("GET %s = %d %v", page.IRI, res.StatusCode, doc)
	}
	if !strings.Contains(string(body), page.IRI+"/history") {
		t.Errorf("the Article has no link to its history: %s", body)
	}
	_, body = get(t, ti.actor("seedbreeders")+"/wiki?page=1", "application/activity+json")
	if !strings.Contains(string(body), page.IRI) {
		t.Errorf("the wiki collection does not list the page: %s", body)
	}
	_, body = get(t, ti.actor("seedbreeders"), "application/activity+json")
	if decode(t, body)["wiki"] != ti.actor("seedbreeders")+"/wiki" {
		t.Errorf("the Group has no wiki collection: %s", body)
	}

	// Browsers get the page, its history and a diff.
	res, body = get(t, page.IRI, "text/html")
	if res.StatusCode != 200 || !strings.Contains(string(body), "Label every packet") {
		t.Errorf("page HTML = %d", res.StatusCode)
	}
	_, body = get(t, page.IRI+"/history", "text/html")
	if !strings.Contains(string(body), "labels") || !strings.Contains(string(body), "first draft") || !strings.Contains(string(body), "@alice@"+peer.Host) || !strings.Contains(string(body), "the community&#39;s stewards") {
		t.Errorf("history does not show both revisions: %s", body)
	}
	_, body = get(t, page.IRI+"/diff?from=1&to=2", "text/html")
	if !strings.Contains(string(body), `<span class="added">&#43; Label every packet.</span>`) {
		t.Errorf("diff does not show the added line: %s", body)
	}
	if res, _ := get(t, page.IRI+"/diff?from=x&to=2", "text/html"); res.StatusCode != 400 {
		t.Errorf("diff with a bad revision = %d, want 400", res.StatusCode)
	}

	// Search finds it.
	_, body = get(t, ti.actor("seedbreeders")+"/search?q=packet", "text/html")
	if !strings.Contains(string(body), page.IRI) {
		t.Errorf("search for a word of the page does not find it")
	}

	// A moderator reverts to revision 1: a third revision, sent as Update.
	page, err = ti.svc.RevertWiki(ctx, community.Operator("ada"), "seedbreeders", "seed-saving-basics", 1)
	if err != nil || page.Revision != 3 {
		t.Fatalf("revert = %+v, %v", page, err)
	}
	if _, err := ti.svc.RevertWiki(ctx, community.Member(alice.IRI), "seedbreeders", "seed-saving-basics", 2); !errors.Is(err, community.ErrForbidden) {
		t.Errorf("revert by a member = %v, want forbidden", err)
	}
}

func TestWikiEditsThatAreRefused(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.2"))
	alice, stranger, banned := peer.NewActor("alice"), peer.NewActor("stranger"), peer.NewActor("banned")
	member(t, ti, peer, alice)
	member(t, ti, peer, banned)
	if err := ti.svc.Ban(ctx, community.Operator("admin"), "seedbreeders", banned.IRI, ""); err != nil {
		t.Fatal(err)
	}
	before, _ := ti.store.RowCounts(ctx)
	ok := community.WikiEdit{Title: "Rye", Body: "Rye notes."}
	tests := []struct {
		name string
		p    community.Principal
		e    community.WikiEdit
	}{
		{"by a stranger", community.Member(stranger.IRI), ok},
		{"by a banned member", community.Member(banned.IRI), ok},
		{"oversized", community.Member(alice.IRI), community.WikiEdit{Title: "Big", Body: strings.Repeat("a", community.MaxWikiBody+1)}},
		{"without a title", community.Member(alice.IRI), community.WikiEdit{Body: "text"}},
		{"with a bad slug", community.Member(alice.IRI), community.WikiEdit{Slug: "../etc", Title: "x", Body: "text"}},
		{"empty", community.Member(alice.IRI), community.WikiEdit{Title: "Empty", Body: "  "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ti.svc.EditWiki(ctx, tt.p, "seedbreeders", tt.e); err == nil {
				t.Errorf("EditWiki %s succeeded", tt.name)
			}
		})
	}
	after, _ := ti.store.RowCounts(ctx)
	if after["outbox_activities"] != before["outbox_activities"] {
		t.Errorf("refused edits queued %d activities", after["outbox_activities"]-before["outbox_activities"])
	}
	// Script in Markdown never reaches the page.
	page, err := ti.svc.EditWiki(ctx, community.Member(alice.IRI), "seedbreeders", community.WikiEdit{Title: "Tricks", Body: "hi <script>alert(1)</script> [x](javascript:alert(1))"})
	if err != nil {
		t.Fatal(err)
	}
	_, body := get(t, page.IRI, "text/html")
	if strings.Contains(string(body), "<script>alert") || strings.Contains(string(body), "javascript:") {
		t.Errorf("the page shows script: %s", body)
	}
	// Under the moderators policy, a member may not edit.
	if err := ti.svc.SetWikiPolicy(ctx, community.Operator("ada"), "seedbreeders", community.WikiModerators); err != nil {
		t.Fatal(err)
	}
	if _, err := ti.svc.EditWiki(ctx, community.Member(alice.IRI), "seedbreeders", community.WikiEdit{Title: "Oats", Body: "Oat notes."}); err == nil {
		t.Errorf("a member edited under the moderators policy")
	}
}

func TestDecisionsOpenVoteAndClose(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.2"))
	followers := fedtest.New(t, fedtest.OnAddress("127.0.0.3"))
	alice, carol, stranger := peer.NewActor("alice"), peer.NewActor("carol"), peer.NewActor("stranger")
	member(t, ti, peer, alice)
	member(t, ti, peer, carol)
	member(t, ti, followers, followers.NewActor("bob"))
	rome, _ := time.LoadLocation("Europe/Rome")
	closes := time.Now().In(rome).Add(48 * time.Hour)
	d, err := ti.svc.OpenDecision(ctx, community.Operator("ada"), "seedbreeders", community.NewDecision{
		Question: "Where do we meet in spring?", Options: []string{"Rome", "Turin", "Online"}, Closes: closes, TimeZone: "Europe/Rome",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := followers.Wait(t, 1, wait, createdOrUpdated("Create", d.IRI))
	q := got[0].Activity["object"].(map[string]any)
	if q["type"] != "Question" || len(q["oneOf"].([]any)) != 3 || q["endTime"] == nil || q["attributedTo"] != ti.actor("seedbreeders") {
		t.Errorf("Create{Question} = %v", q)
	}

	// Mastodon poll votes: a Note named after the option, to the community.
	vote := func(a *fedtest.Actor, id, option string) (int, string) {
		b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/votes/" + id, "type": "Create", "actor": a.IRI,
			"to": []any{ti.actor("seedbreeders")}, "object": map[string]any{"id": a.IRI + "/votes/" + id + "/note", "type": "Note", "attributedTo": a.IRI,
				"name": option, "inReplyTo": d.IRI, "to": []any{ti.actor("seedbreeders")}}})
		return a.Post(t, ti.sharedInbox(), b)
	}
	for _, v := range []struct {
		who    *fedtest.Actor
		id     string
		option string
		want   int
	}{
		{alice, "1", "Turin", 202},
		{alice, "2", "Rome", 202}, // the last answer wins
		{carol, "1", "Online", 202},
		{stranger, "1", "Rome", 403},
		{carol, "2", "Mars", 400},
	} {
		if code, body := vote(v.who, v.id, v.option); code != v.want {
			t.Errorf("vote %s by %s = %d %s, want %d", v.option, v.who.Name, code, body, v.want)
		}
	}
	// A member votes on the site too (the principal of a signed-in member).
	dora := peer.NewActor("dora")
	member(t, ti, peer, dora)
	if err := ti.svc.VoteDecision(ctx, community.Member(dora.IRI), community.Incoming{}, d.IRI, []string{"Rome"}); err != nil {
		t.Fatal(err)
	}
	v, err := ti.svc.Decision(ctx, d.IRI)
	if err != nil || v.Tally.Votes[0] != 2 || v.Tally.Votes[1] != 0 || v.Tally.Votes[2] != 1 || v.Tally.Voters != 3 {
		t.Fatalf("tally = %+v, %v; want Rome 2, Turin 0, Online 1, 3 voters", v.Tally, err)
	}

	// Counts go out in one batch, not one Update per vote.
	if n, err := ti.svc.SendDecisionTallies(ctx, 0); err != nil || n != 1 {
		t.Fatalf("SendDecisionTallies = %d, %v; want 1", n, err)
	}
	got = followers.Wait(t, 1, wait, createdOrUpdated("Update", d.IRI))
	if q := got[0].Activity["object"].(map[string]any); q["votersCount"] != float64(3) {
		t.Errorf("Update{Question} votersCount = %v, want 3", q["votersCount"])
	}

	// Closing freezes the result and says so.
	if _, err := ti.svc.CloseDecision(ctx, community.Member(alice.IRI), d.IRI); !errors.Is(err, community.ErrForbidden) {
		t.Errorf("close by a member = %v, want forbidden", err)
	}
	if _, err := ti.svc.CloseDecision(ctx, community.Operator("ada"), d.IRI); err != nil {
		t.Fatal(err)
	}
	followers.Wait(t, 1, wait, func(r fedtest.Received) bool {
		o, _ := r.Activity["object"].(map[string]any)
		return r.Activity["type"] == "Update" && o["id"] == d.IRI && o["closed"] != nil
	})
	if code, body := vote(carol, "3", "Rome"); code != 403 {
		t.Errorf("vote after closing = %d %s, want 403", code, body)
	}
	v, _ = ti.svc.Decision(ctx, d.IRI)
	if v.Tally.Votes[0] != 2 || v.Tally.Voters != 3 {
		t.Errorf("tally after closing = %+v, want it frozen", v.Tally)
	}
	_, body := get(t, ti.actor("seedbreeders"), "text/html")
	if !strings.Contains(string(body), "Where do we meet in spring?") || !strings.Contains(string(body), "Rome 2") || !strings.Contains(string(body), "3 voted") {
		t.Errorf("the community page does not show the decision's result and turnout")
	}
	res, body := get(t, d.IRI, "application/activity+json")
	if res.StatusCode != 200 || decode(t, body)["closed"] == nil {
		t.Errorf("GET the decision = %d %s", res.StatusCode, body)
	}
}

func TestDecisionsThatAreRefused(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	now := time.Now()
	tests := []struct {
		name string
		n    community.NewDecision
	}{
		{"one option", community.NewDecision{Question: "Q?", Options: []string{"Yes"}, Closes: now.Add(time.Hour), TimeZone: "UTC"}},
		{"the same option twice", community.NewDecision{Question: "Q?", Options: []string{"Yes", "yes"}, Closes: now.Add(time.Hour), TimeZone: "UTC"}},
		{"closing in the past", community.NewDecision{Question: "Q?", Options: []string{"Yes", "No"}, Closes: now.Add(-time.Hour), TimeZone: "UTC"}},
		{"no question", community.NewDecision{Options: []string{"Yes", "No"}, Closes: now.Add(time.Hour), TimeZone: "UTC"}},
		{"an unknown zone", community.NewDecision{Question: "Q?", Options: []string{"Yes", "No"}, Closes: now.Add(time.Hour), TimeZone: "Mars/Base"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inv *community.InvalidError
			if _, err := ti.svc.OpenDecision(ctx, community.Operator("ada"), "seedbreeders", tt.n); !errors.As(err, &inv) {
				t.Errorf("OpenDecision = %v, want invalid", err)
			}
		})
	}
	peer := fedtest.New(t, fedtest.OnAddress("127.0.0.2"))
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)
	if _, err := ti.svc.OpenDecision(ctx, community.Member(alice.IRI), "seedbreeders", community.NewDecision{Question: "Q?", Options: []string{"Yes", "No"}, Closes: now.Add(time.Hour), TimeZone: "UTC"}); !errors.Is(err, community.ErrForbidden) {
		t.Errorf("a member opened a decision: %v", err)
	}
}
