package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/coppice-dev/coppice/storage"
)

func TestConsoleWiki(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	wantStatus(t, tc.get("/admin/communities/seeds/wiki", se), http.StatusOK)

	page := url.Values{"title": {"Seed saving"}, "body": {"Dry them.\n"}, "summary": {"start"}, "base": {"0"}}
	wantRedirect(t, tc.post("/admin/communities/seeds/wiki", se, page), "/admin/communities/seeds/wiki?done=wiki")
	c, _ := tc.svc.Community(ctx, "seeds")
	p, err := tc.st.WikiPage(ctx, c.ID, "seed-saving")
	if err != nil || p.Revision != 1 {
		t.Fatalf("page = %+v, %v", p, err)
	}
	rec := tc.get("/admin/communities/seeds/wiki?page=seed-saving", se)
	wantBody(t, rec, "Edit Seed saving", "Dry them.", `name="base" value="1"`)

	// Two consoles edit revision 1: the second sees the difference.
	edit := url.Values{"slug": {"seed-saving"}, "title": {"Seed saving"}, "body": {"Dry them well.\n"}, "base": {"1"}}
	wantRedirect(t, tc.post("/admin/communities/seeds/wiki", se, edit), "/admin/communities/seeds/wiki?done=wiki")
	stale := url.Values{"slug": {"seed-saving"}, "title": {"Seed saving"}, "body": {"Dry them in shade.\n"}, "base": {"1"}}
	rec = tc.post("/admin/communities/seeds/wiki", se, stale)
	wantStatus(t, rec, http.StatusConflict)
	wantBody(t, rec, "Someone saved this page", "Dry them well.", "Dry them in shade.", `name="base" value="2"`)

	// Bad input is shown again with what to fix, nothing saved.
	rec = tc.post("/admin/communities/seeds/wiki", se, url.Values{"title": {""}, "body": {""}, "base": {"0"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "required")
	// Without the CSRF token nothing happens.
	rec = tc.request(http.MethodPost, "/admin/communities/seeds/wiki", session{token: se.token}, nil, "application/x-www-form-urlencoded")
	wantStatus(t, rec, http.StatusForbidden)

	wantRedirect(t, tc.post("/admin/communities/seeds/wiki/revert", se, url.Values{"page": {"seed-saving"}, "revision": {"1"}}), "/admin/communities/seeds/wiki?done=reverted")
	if p, _ := tc.st.WikiPage(ctx, c.ID, "seed-saving"); p.Revision != 3 {
		t.Errorf("after revert, revision = %d, want 3", p.Revision)
	}

	// A broker curates (writes pages) but does not moderate (revert).
	tc.account("bea", storage.AccountSteward, map[string]string{"seeds": storage.RoleBroker})
	bea := tc.signIn("bea")
	wantRedirect(t, tc.post("/admin/communities/seeds/wiki", bea, url.Values{"title": {"Rye"}, "body": {"Rye."}, "base": {"0"}}), "/admin/communities/seeds/wiki?done=wiki")
	wantStatus(t, tc.post("/admin/communities/seeds/wiki/revert", bea, url.Values{"page": {"seed-saving"}, "revision": {"1"}}), http.StatusForbidden)
	wantStatus(t, tc.post("/admin/communities/bees/wiki", bea, url.Values{"title": {"Hives"}, "body": {"Hives."}, "base": {"0"}}), http.StatusForbidden)
}

func TestConsoleDecisions(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	wantStatus(t, tc.get("/admin/communities/seeds/decisions", se), http.StatusOK)
	rec := tc.post("/admin/communities/seeds/decisions", se, url.Values{"question": {"Spring meeting?"}, "options": {"Rome"}, "closes": {"2026-06-10T18:00"}, "timezone": {"Europe/Rome"}})
	wantStatus(t, rec, http.StatusUnprocessableEntity)
	wantBody(t, rec, "give 2 to 20 options", `value="Spring meeting?"`)
	wantRedirect(t, tc.post("/admin/communities/seeds/decisions", se, url.Values{"question": {"Spring meeting?"}, "options": {"Rome\nTurin\n"},
		"closes": {"2026-06-10T18:00"}, "timezone": {"Europe/Rome"}}), "/admin/communities/seeds/decisions?done=decision")
	c, _ := tc.svc.Community(ctx, "seeds")
	ds, err := tc.svc.Decisions(ctx, c, 10)
	if err != nil || len(ds) != 1 || len(ds[0].Decision.Options) != 2 || ds[0].Decision.CreatedBy != "console:root" {
		t.Fatalf("decisions = %+v, %v", ds, err)
	}
	wantBody(t, tc.get("/admin/communities/seeds/decisions", se), "Spring meeting?", "Rome 0, Turin 0", "Close now")
	tc.account("bea", storage.AccountSteward, map[string]string{"seeds": storage.RoleBroker})
	wantStatus(t, tc.post("/admin/communities/seeds/decisions/close", tc.signIn("bea"), url.Values{"decision": {ds[0].Decision.IRI}}), http.StatusForbidden)
	wantRedirect(t, tc.post("/admin/communities/seeds/decisions/close", se, url.Values{"decision": {ds[0].Decision.IRI}}), "/admin/communities/seeds/decisions?done=closed")
	if v, _ := tc.svc.Decision(ctx, ds[0].Decision.IRI); v.Decision.ClosedAt.IsZero() {
		t.Error("the decision is still open")
	}
	log, _ := tc.svc.AuditLog(ctx, 10)
	found := 0
	for _, e := range log {
		if e.Username == "root" && (e.Action == "open decision" || e.Action == "close decision") {
			found++
		}
	}
	if found != 2 {
		t.Errorf("audit log = %+v, want the open and the close by root", log)
	}
}
