package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
)

// screenshot saves the page as testout/NAME.png at the repository root.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	root, err := repoRoot()
	if err != nil {
		b.t.Fatal(err)
	}
	dir := filepath.Join(root, "testout")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot of %s saved as testout/%s.png", b.location(), name)
}

// publicNote is a member's public Create{Note} addressed to the community,
// published at the given time.
func publicNote(a *fedtest.Actor, id, group string, published time.Time) []byte {
	public := "https://www.w3.org/ns/activitystreams#Public"
	obj := map[string]any{
		"id": a.IRI + "/notes/" + id, "type": "Note", "attributedTo": a.IRI, "content": "<p>Note " + id + "</p>",
		"published": published.UTC().Format(time.RFC3339), "to": []any{public}, "cc": []any{group},
		"tag": []any{map[string]any{"type": "Mention", "href": group}},
	}
	b, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/notes/" + id + "/activity",
		"type": "Create", "actor": a.IRI, "to": []any{public}, "cc": []any{group}, "object": obj,
	})
	return b
}

// TestConsoleChartsShowRealActivity: members of two remote instances join
// and post (over signed inbox POSTs), the instance delivers Accepts and
// Announces to one host and fails on the other, which is down; the
// dashboard and the community's console page then chart it, in Chromium.
// The screenshots are kept under testout/.
func TestConsoleChartsShowRealActivity(t *testing.T) {
	b := newBrowser(t)
	ti := newInstance(t)
	ctx := context.Background()
	if _, err := ti.svc.CreateCommunity(ctx, community.NewCommunity{Name: "seedbreeders", Title: "Seed breeders",
		Summary: "Open-pollinated seed breeding.", JoinMode: community.JoinOpen}); err != nil {
		t.Fatal(err)
	}
	if _, err := ti.svc.CreateAdmin(ctx, "admin", adminPassword); err != nil {
		t.Fatal(err)
	}
	group := ti.actor("seedbreeders")
	up, down := fedtest.New(t, fedtest.OnAddress("127.0.0.81")), fedtest.New(t, fedtest.OnAddress("127.0.0.82"))
	var members []*fedtest.Actor
	for i, in := range []*fedtest.Instance{up, up, up, down} {
		a := in.NewActor(fmt.Sprint("m", i))
		if code, body := a.Post(t, ti.inbox("seedbreeders"), a.Follow(group)); code != http.StatusAccepted {
			t.Fatalf("Follow: %d %s", code, body)
		}
		members = append(members, a)
	}
	up.Wait(t, 3, 30*time.Second, func(r fedtest.Received) bool { return r.Activity["type"] == "Accept" })
	down.Down(true)
	now := time.Now()
	posts := 0
	for i, ago := range []int{0, 0, 1, 3, 3, 3, 8, 20} {
		a := members[i%3]
		if code, body := a.Post(t, ti.inbox("seedbreeders"), publicNote(a, fmt.Sprint(i), group, now.Add(-time.Duration(ago)*24*time.Hour))); code != http.StatusAccepted {
			t.Fatalf("Create{Note}: %d %s", code, body)
		}
		posts++
	}
	// Each post is announced to the up host (twice: Announce{Create} and
	// Announce{Note}); wait until the history has them all.
	waitFor(t, "the deliveries to be recorded", func() bool {
		d, err := ti.svc.DeliveryActivity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sum(d.Delivered) >= 3+2*posts && sum(d.Retried) > 0
	})

	console := ti.URL + "/admin"
	b.step("log in and see the dashboard's charts",
		chromedp.Navigate(console+"/"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), adminPassword),
		chromedp.Click(chromedp.CSS(`form[action="/admin/login"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#deliveries-delivered svg")),
		chromedp.WaitVisible(chromedp.CSS("#queue-depth svg")),
		chromedp.WaitVisible(chromedp.CSS("#all-posts svg")),
	)
	if got := b.text("#all-posts figcaption"); !strings.Contains(got, fmt.Sprintf("%d posts in all", posts)) {
		t.Errorf("dashboard posts chart says %q, want %d posts in all", got, posts)
	}
	if got := b.text("#all-members figcaption"); !strings.Contains(got, "4 new members in all") {
		t.Errorf("dashboard members chart says %q, want 4 new members in all", got)
	}
	if got := b.text("#deliveries-retried figcaption"); strings.Contains(got, ": 0 to retry in all") {
		t.Errorf("dashboard retries chart says %q, want the failures to the down host", got)
	}
	b.screenshot("charts-dashboard")

	b.step("the community's console page",
		chromedp.Navigate(console+"/communities/seedbreeders"),
		chromedp.WaitVisible(chromedp.CSS("#seedbreeders-posts svg")),
		chromedp.WaitVisible(chromedp.CSS("#seedbreeders-members svg")),
	)
	if got := b.text("#seedbreeders-posts figcaption"); !strings.Contains(got, fmt.Sprintf("%d posts in all", posts)) || !strings.Contains(got, "(3)") {
		t.Errorf("community posts chart says %q, want %d posts, at most 3 on a day", got, posts)
	}
	b.screenshot("charts-community")
}

func sum(cs []community.Count) int {
	n := 0
	for _, c := range cs {
		n += c.Value
	}
	return n
}

// waitFor polls cond until it holds or 30 s pass: the worker writes its
// outcomes in batches, in its own goroutine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("waited 30s for %s", what)
		}
	}
}
