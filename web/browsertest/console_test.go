package browsertest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
)

const adminPassword = "correct horse battery staple"

// TestANewAdminRunsACommunityFromTheBrowser is issue 7's "done when": an
// admin logs in, creates a community, approves a follower who asked from a
// remote server, gives them a role, schedules a meeting and publishes a
// resource, all in the browser, and the public pages show it all.
func TestANewAdminRunsACommunityFromTheBrowser(t *testing.T) {
	b := newBrowser(t)
	ti := newInstance(t)
	ctx := context.Background()
	if _, err := ti.svc.CreateCommunity(ctx, community.NewCommunity{Name: "seedbreeders", Title: "Seed breeders",
		Summary: "Open-pollinated seed breeding.", JoinMode: community.JoinApproval}); err != nil {
		t.Fatal(err)
	}
	if _, err := ti.svc.CreateAdmin(ctx, "admin", adminPassword); err != nil {
		t.Fatal(err)
	}
	remote := fedtest.New(t)
	alice := remote.NewActor("alice")
	follow := alice.Follow(ti.actor("seedbreeders"))
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), follow); code != http.StatusAccepted {
		t.Fatalf("alice's Follow: %d %s", code, body)
	}
	console := ti.URL + "/admin"
	done := chromedp.WaitVisible(chromedp.ID("done"))

	b.step("log in",
		chromedp.Navigate(console+"/"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), adminPassword),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS("dl.stats")),
	)
	if got := b.text("dl.stats"); !strings.Contains(got, "Pending requests\n1") {
		t.Errorf("dashboard = %q, want 1 pending request", got)
	}

	b.step("create a community",
		chromedp.Navigate(console+"/communities"),
		chromedp.WaitVisible(chromedp.ID("c-name")),
		chromedp.SendKeys(chromedp.ID("c-name"), "orchards"),
		chromedp.SendKeys(chromedp.ID("c-title"), "Orchard keepers"),
		chromedp.SendKeys(chromedp.ID("c-summary"), "Grafting, pruning and old varieties."),
		chromedp.Click(chromedp.CSS(`input[name="join"][value="approval"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/admin/communities"] button[type="submit"]`)),
		done,
	)
	if loc := b.location(); !strings.HasSuffix(loc, "/admin/communities/orchards?done=created") {
		t.Errorf("after creating: at %s, want the new community's settings", loc)
	}

	members := console + "/communities/seedbreeders/members"
	b.step("approve the pending follower",
		chromedp.Navigate(members),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/members/approve"] button`)),
		chromedp.Click(chromedp.CSS(`form[action$="/members/approve"] button`)),
		done,
	)
	accepts := remote.Wait(t, 1, 15*time.Second, func(r fedtest.Received) bool {
		obj, _ := r.Activity["object"].(map[string]any)
		return r.Activity["type"] == "Accept" && obj["id"] == followID(t, follow)
	})
	if accepts[0].Err != nil {
		t.Errorf("the Accept did not verify at alice's server: %v", accepts[0].Err)
	}

	b.step("give the new member a role",
		chromedp.Navigate(members),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/members/role"] select`)),
		chromedp.SetValue(chromedp.CSS(`form[action$="/members/role"] select`), "moderator"),
		chromedp.Click(chromedp.CSS(`form[action$="/members/role"] button`)),
		done,
	)
	if got := b.text(`form[action$="/members/role"] select`); !strings.Contains(got, "moderator") {
		t.Errorf("role select after saving = %q", got)
	}

	b.step("schedule a meeting",
		chromedp.Navigate(console+"/communities/seedbreeders/meetings"),
		chromedp.WaitVisible(chromedp.ID("m-title")),
		chromedp.SendKeys(chromedp.ID("m-title"), "Autumn seed swap"),
		chromedp.SetValue(chromedp.ID("m-start"), "2026-09-12T14:00"),
		chromedp.SetValue(chromedp.ID("m-end"), "2026-09-12T16:30"),
		chromedp.SetValue(chromedp.ID("m-timezone"), "Europe/Berlin"),
		chromedp.SendKeys(chromedp.ID("m-place"), "Community garden"),
		chromedp.SendKeys(chromedp.ID("m-description"), "Bring seeds in paper bags."),
		chromedp.Click(chromedp.CSS(`form[action$="/meetings"] button[type="submit"]`)),
		done,
	)

	b.step("publish a resource",
		chromedp.Navigate(console+"/communities/seedbreeders/resources"),
		chromedp.WaitVisible(chromedp.ID("r-title")),
		chromedp.SetValue(chromedp.ID("r-kind"), "method"),
		chromedp.SendKeys(chromedp.ID("r-title"), "Isolation distances for squash"),
		chromedp.SendKeys(chromedp.ID("r-url"), "https://example.org/squash"),
		chromedp.SendKeys(chromedp.ID("r-tags"), "squash, isolation"),
		chromedp.Click(chromedp.CSS(`form[action$="/resources"] button[type="submit"]`)),
		done,
	)

	b.step("see the community's public page",
		chromedp.Navigate(ti.URL+"/c/seedbreeders"),
		chromedp.WaitVisible(chromedp.ID("meetings")),
	)
	page := b.text("main")
	for _, want := range []string{"Seed breeders", "Autumn seed swap", "Sat 12 Sep 2026 14:00 – 16:30 (Europe/Berlin)", "Isolation distances for squash"} {
		if !strings.Contains(page, want) {
			t.Errorf("public community page lacks %q:\n%s", want, page)
		}
	}

	b.step("see the member's role on their public page",
		chromedp.Navigate(ti.URL+"/members?actor="+url.QueryEscape(alice.IRI)),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	)
	if page := b.text("main"); !strings.Contains(page, "Seed breeders") || !strings.Contains(page, "moderator") {
		t.Errorf("alice's public page does not show her role in Seed breeders:\n%s", page)
	}

	b.step("see the role change in the public moderation log",
		chromedp.Navigate(ti.URL+"/c/seedbreeders/moderation"),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	)
	if page := b.text("main"); !strings.Contains(page, "role moderator") {
		t.Errorf("public moderation log lacks the role change:\n%s", page)
	}

	b.step("see the new community in the directory",
		chromedp.Navigate(ti.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("ul.directory")),
	)
	if page := b.text("main"); !strings.Contains(page, "Orchard keepers") {
		t.Errorf("the directory lacks the new community:\n%s", page)
	}

	b.step("log out",
		chromedp.Navigate(console+"/"),
		chromedp.WaitVisible(chromedp.CSS("form.logout button")),
		chromedp.Click(chromedp.CSS("form.logout button")),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.Navigate(console+"/audit"),
		chromedp.WaitVisible(chromedp.ID("username")),
	)
	if loc := b.location(); !strings.HasSuffix(loc, "/admin/login") {
		t.Errorf("after logout the console is at %s, want the login page", loc)
	}
}

func followID(t *testing.T, follow []byte) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(follow, &m); err != nil {
		t.Fatal(err)
	}
	id, _ := m["id"].(string)
	return id
}

// TestAModeratorReviewsAWaitingPostInTheBrowser (GRP-06): in a community
// where only moderators post, a member's post from a remote server waits;
// the admin sees it on the Moderation page, approves it with the button,
// and the community's public page then shows it.
func TestAModeratorReviewsAWaitingPostInTheBrowser(t *testing.T) {
	b := newBrowser(t)
	ti := newInstance(t)
	ctx := context.Background()
	if _, err := ti.svc.CreateCommunity(ctx, community.NewCommunity{Name: "closed", Title: "Closed circle", Summary: "Moderated posting."}); err != nil {
		t.Fatal(err)
	}
	if _, err := ti.svc.UpdateSettings(ctx, "closed", community.Settings{PostingPolicy: community.PostModerators, BoostReplies: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := ti.svc.CreateAdmin(ctx, "admin", adminPassword); err != nil {
		t.Fatal(err)
	}
	remote := fedtest.New(t)
	bob := remote.NewActor("bob")
	if code, body := bob.Post(t, ti.inbox("closed"), bob.Follow(ti.actor("closed"))); code != http.StatusAccepted {
		t.Fatalf("bob's Follow: %d %s", code, body)
	}
	post, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": bob.IRI + "/notes/1/activity", "type": "Create",
		"actor": bob.IRI, "to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []any{ti.actor("closed")},
		"object": map[string]any{"id": bob.IRI + "/notes/1", "type": "Note", "attributedTo": bob.IRI, "content": "<p>Heirloom beans for the swap</p>",
			"to": []any{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []any{ti.actor("closed")},
			"tag": []any{map[string]any{"type": "Mention", "href": ti.actor("closed")}}}})
	if code, body := bob.Post(t, ti.inbox("closed"), post); code != http.StatusAccepted {
		t.Fatalf("bob's post: %d %s", code, body)
	}

	b.step("the waiting post is not on the public page",
		chromedp.Navigate(ti.URL+"/c/closed"),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	)
	if page := b.text("main"); strings.Contains(page, "Heirloom beans") {
		t.Errorf("the public page shows a waiting post:\n%s", page)
	}
	console := ti.URL + "/admin"
	b.step("log in and open the moderation page",
		chromedp.Navigate(console+"/"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), adminPassword),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS("dl.stats")),
		chromedp.Navigate(console+"/communities/closed/moderation"),
		chromedp.WaitVisible(chromedp.ID("held")),
	)
	if page := b.text("main"); !strings.Contains(page, "Heirloom beans for the swap") {
		t.Fatalf("the moderation page does not list the waiting post:\n%s", page)
	}
	b.step("approve it",
		chromedp.Click(chromedp.CSS(`form[action$="/moderation/held"] button[value="approve"]`)),
		chromedp.WaitVisible(chromedp.ID("done")),
	)
	if page := b.text("main"); !strings.Contains(page, "No post is waiting") || !strings.Contains(page, "approve post") {
		t.Errorf("after approving, the moderation page says:\n%s", page)
	}
	b.step("the approved post is on the public page",
		chromedp.Navigate(ti.URL+"/c/closed"),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	)
	if page := b.text("main"); !strings.Contains(page, "Heirloom beans") {
		t.Errorf("the public page lacks the approved post:\n%s", page)
	}
}
