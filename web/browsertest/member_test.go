package browsertest

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
)

var signInLinkRE = regexp.MustCompile(`href="([^"]*/signin/link[^"]*)"`)

// TestAMemberSignsInAndTakesPart is issue 15's browser test: a member of a
// community, whose account lives on another server, signs in to the
// community's site with the link her server received by direct message,
// edits a wiki page, votes in a decision and answers a meeting; a follower
// on a third server receives each effect.
func TestAMemberSignsInAndTakesPart(t *testing.T) {
	b := newBrowser(t)
	ti := newInstance(t)
	ctx := context.Background()
	if _, err := ti.svc.CreateCommunity(ctx, community.NewCommunity{Name: "seedbreeders", Title: "Seed breeders", Summary: "Open-pollinated seed breeding."}); err != nil {
		t.Fatal(err)
	}
	home := fedtest.New(t, fedtest.OnAddress("127.0.0.31"))
	others := fedtest.New(t, fedtest.OnAddress("127.0.0.32"))
	alice, bob := home.NewActor("alice"), others.NewActor("bob")
	for _, f := range []struct {
		peer *fedtest.Instance
		a    *fedtest.Actor
	}{{home, alice}, {others, bob}} {
		if code, body := f.a.Post(t, ti.inbox("seedbreeders"), f.a.Follow(ti.actor("seedbreeders"))); code != http.StatusAccepted {
			t.Fatalf("follow by %s: %d %s", f.a.Name, code, body)
		}
		f.peer.Wait(t, 1, 15*time.Second, func(r fedtest.Received) bool { return r.Activity["type"] == "Accept" })
	}
	if _, err := ti.svc.EditWiki(ctx, community.Operator("ada"), "seedbreeders", community.WikiEdit{Title: "Seed saving", Body: "Dry the seeds."}); err != nil {
		t.Fatal(err)
	}
	d, err := ti.svc.OpenDecision(ctx, community.Operator("ada"), "seedbreeders", community.NewDecision{
		Question: "Next trial crop?", Options: []string{"Rye", "Oats"}, Closes: time.Now().Add(48 * time.Hour), TimeZone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(72 * time.Hour).Truncate(time.Minute)
	m, err := ti.svc.CreateMeeting(ctx, "seedbreeders", community.NewMeeting{Title: "Field day", Start: start, End: start.Add(2 * time.Hour), TimeZone: "UTC", Place: "The farm", By: "admin"})
	if err != nil {
		t.Fatal(err)
	}

	b.step("ask for a sign-in link",
		chromedp.Navigate(ti.URL+"/c/seedbreeders"),
		chromedp.Click(chromedp.CSS(`a[href^="/signin"]`)),
		chromedp.WaitVisible(chromedp.ID("handle")),
		chromedp.SendKeys(chromedp.ID("handle"), "@alice@"+home.Host),
		chromedp.Click(chromedp.CSS(`button[value="link"]`)),
		chromedp.WaitVisible(chromedp.Search(`//h1[text()="Check your messages"]`)),
	)
	got := home.Wait(t, 1, 15*time.Second, func(r fedtest.Received) bool {
		return r.Activity["type"] == "Create" && r.Path == "/users/alice/inbox"
	})
	note, _ := got[0].Activity["object"].(map[string]any)
	content, _ := note["content"].(string)
	link := signInLinkRE.FindStringSubmatch(content)
	if link == nil {
		t.Fatalf("no link in the direct message %q", content)
	}
	b.step("open the link from the message",
		chromedp.Navigate(html.UnescapeString(link[1])),
		chromedp.WaitVisible(chromedp.CSS(".viewer")),
	)
	if got := b.text(".viewer"); !strings.Contains(got, "Signed in as @alice@"+home.Host) {
		t.Fatalf("viewer = %q", got)
	}

	b.step("edit a wiki page",
		chromedp.Navigate(ti.URL+"/c/seedbreeders/wiki/seed-saving"),
		chromedp.Click(chromedp.CSS(`a[href$="/wiki/seed-saving/edit"]`)),
		chromedp.WaitVisible(chromedp.ID("w-body")),
		chromedp.SetValue(chromedp.ID("w-body"), "Dry the seeds, then label every packet."),
		chromedp.SendKeys(chromedp.ID("w-summary"), "labels"),
		chromedp.Click(chromedp.CSS(`form[action$="/edit"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.Search(`//article[contains(., "label every packet")]`)),
	)
	upd := others.Wait(t, 1, 15*time.Second, func(r fedtest.Received) bool {
		o, _ := r.Activity["object"].(map[string]any)
		return r.Activity["type"] == "Update" && o["type"] == "Article"
	})
	if o := upd[0].Activity["object"].(map[string]any); o["contributor"] != alice.IRI {
		t.Errorf("Update{Article} credits %v, want alice", o["contributor"])
	}

	b.step("vote in the decision",
		chromedp.Navigate(d.IRI),
		chromedp.WaitVisible(chromedp.CSS(`input[name="option"][value="Oats"]`)),
		chromedp.Click(chromedp.CSS(`input[name="option"][value="Oats"]`)),
		chromedp.Click(chromedp.CSS(`form[action$="/vote"] button`)),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(., "1 member voted")]`)),
	)

	b.step("answer the meeting",
		chromedp.Navigate(m.IRI),
		chromedp.WaitVisible(chromedp.CSS(`button[value="going"]`)),
		chromedp.Click(chromedp.CSS(`button[value="going"]`)),
		chromedp.WaitVisible(chromedp.Search(`//p[contains(., "1 going")]`)),
	)

	// The vote and the answer reach followers in the next batch.
	if _, err := ti.svc.SendDecisionTallies(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := ti.svc.SendChangedCounts(ctx, 0); err != nil {
		t.Fatal(err)
	}
	others.Wait(t, 1, 15*time.Second, func(r fedtest.Received) bool {
		o, _ := r.Activity["object"].(map[string]any)
		return r.Activity["type"] == "Update" && o["id"] == d.IRI && o["votersCount"] == float64(1)
	})
	others.Wait(t, 1, 15*time.Second, func(r fedtest.Received) bool {
		o, _ := r.Activity["object"].(map[string]any)
		return r.Activity["type"] == "Update" && o["id"] == m.IRI && o["participantCount"] == float64(1)
	})
}
