package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coppice-dev/coppice/storage"
)

func TestEveryPageRendersForAnAdmin(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	tests := []struct {
		path  string
		wants []string
	}{
		{"/admin/", []string{"<h1>Dashboard</h1>", "Pending requests", "Deliveries queued", "Failing hosts", "Seed savers", "Beekeepers"}},
		{"/admin/communities", []string{"<h1>Communities</h1>", "Create a community", `<label for="c-name">Name</label>`}},
		{"/admin/communities/seeds", []string{"<h1>Settings</h1>", `value="Seed savers"`, "Archive this community", `aria-current="page">Settings`}},
		{"/admin/communities/seeds/members", []string{"<h1>Members</h1>", "@ann@remote.example", "Approve", "Ban someone"}},
		{"/admin/communities/bees/members", []string{"@bob@remote.example", "Set role", `<option value="member" selected>`}},
		{"/admin/communities/seeds/moderation", []string{"<h1>Moderation</h1>", "No open reports", "Moderation log"}},
		{"/admin/communities/seeds/resources", []string{"<h1>Resources</h1>", "Add a resource", `enctype="multipart/form-data"`, `name="file"`}},
		{"/admin/communities/seeds/meetings", []string{"<h1>Meetings</h1>", `type="datetime-local"`, `<option value="Europe/Berlin">`, `name="repeat"`}},
		{"/admin/communities/seeds/brokers", []string{"<h1>Brokers</h1>", "Related communities", "Share into this community", `name="object"`}},
		{"/admin/federation", []string{"<h1>Federation</h1>", `value="open" checked`, "Set a policy", "remote.example"}},
		{"/admin/accounts", []string{"<h1>Accounts</h1>", "Create an account", "root"}},
		{"/admin/audit", []string{"<h1>Audit log</h1>"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := tc.get(tt.path, se)
			wantStatus(t, rec, http.StatusOK)
			wantBody(t, rec, tt.wants...)
			wantBody(t, rec, `name="csrf" value="`+se.csrf+`"`, `<a href="/admin/" class="brand">`)
			h := rec.Header()
			if h.Get("Cache-Control") != "no-store" || !strings.Contains(h.Get("Content-Security-Policy"), "form-action 'self'") ||
				!strings.Contains(h.Get("Content-Security-Policy"), "script-src 'none'") || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("headers = %v, want no-store, a CSP without scripts that posts only to self, no framing", h)
			}
		})
	}
	wantStatus(t, tc.get("/admin/communities/nobody", se), http.StatusNotFound)
	wantStatus(t, tc.get("/admin/nothing", se), http.StatusNotFound)
	if rec := tc.get("/admin", se); rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/admin/" {
		t.Errorf("GET /admin = %d to %q, want 301 to /admin/", rec.Code, rec.Header().Get("Location"))
	}
}

// postRoutes are every state-changing console route with a form that
// would succeed for an admin.
func postRoutes(tc *testConsole) []struct {
	path string
	form url.Values
} {
	return []struct {
		path string
		form url.Values
	}{
		{"/admin/logout", url.Values{}},
		{"/admin/communities", url.Values{"name": {"moths"}, "title": {"Moths"}, "join": {"open"}}},
		{"/admin/communities/seeds", url.Values{"title": {"Changed"}, "join": {"open"}, "posting": {"anyone"}}},
		{"/admin/communities/seeds/archive", url.Values{"archive": {"1"}}},
		{"/admin/communities/seeds/members/approve", url.Values{"actor": {tc.ann.IRI}}},
		{"/admin/communities/seeds/members/reject", url.Values{"actor": {tc.ann.IRI}}},
		{"/admin/communities/bees/members/role", url.Values{"actor": {tc.bob.IRI}, "role": {"moderator"}}},
		{"/admin/communities/bees/members/ban", url.Values{"actor": {tc.bob.IRI}, "reason": {"spam"}}},
		{"/admin/communities/bees/members/unban", url.Values{"actor": {tc.bob.IRI}}},
		{"/admin/communities/seeds/moderation/resolve", url.Values{"report": {"1"}, "resolution": {"dismiss"}}},
		{"/admin/communities/seeds/resources", url.Values{"kind": {"link"}, "title": {"Guide"}, "url": {"https://example.org/guide"}}},
		{"/admin/communities/seeds/resources/state", url.Values{"resource": {"https://coppice.example/c/seeds/resources/1"}, "state": {"archived"}}},
		{"/admin/communities/seeds/meetings", url.Values{"title": {"Swap"}, "start": {"2026-07-01T18:00"}, "end": {"2026-07-01T19:00"}, "timezone": {"UTC"}}},
		{"/admin/communities/seeds/meetings/cancel", url.Values{"meeting": {"https://coppice.example/c/seeds/events/1"}}},
		{"/admin/communities/seeds/meetings/update", url.Values{"meeting": {"https://coppice.example/c/seeds/events/1"}, "title": {"Swap"}, "start": {"2026-07-01T18:00"}, "end": {"2026-07-01T19:00"}, "timezone": {"UTC"}}},
		{"/admin/communities/seeds/brokers/share", url.Values{"object": {"https://remote.example/notes/1"}}},
		{"/admin/federation/mode", url.Values{"mode": {"allowlist"}}},
		{"/admin/federation/policy", url.Values{"host": {"bad.example"}, "policy": {"block"}}},
		{"/admin/federation/retry", url.Values{"host": {"remote.example"}}},
		{"/admin/accounts", url.Values{"username": {"ann"}, "password": {testPassword}, "kind": {"steward"}}},
		{"/admin/accounts/steward", url.Values{"steward": {"root"}, "community": {"seeds"}, "role": {"moderator"}}},
		{"/admin/accounts/unsteward", url.Values{"steward": {"root"}, "community": {"seeds"}}},
		{"/admin/accounts/delete", url.Values{"username": {"nobody"}}},
	}
}

func TestFormsWithoutTheCSRFTokenAreForbidden(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	for _, rt := range postRoutes(tc) {
		for _, tt := range []struct {
			name string
			csrf []string
		}{
			{"without a token", nil},
			{"with an empty token", []string{""}},
			{"with another session's token", []string{strings.Repeat("B", 43)}},
		} {
			t.Run(rt.path+" "+tt.name, func(t *testing.T) {
				form := url.Values{}
				for k, v := range rt.form {
					form[k] = v
				}
				if tt.csrf == nil {
					// A form with no csrf field at all: post does not add one
					// for a key that is present, so send it raw.
					rec := tc.request(http.MethodPost, rt.path, se, strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
					wantStatus(t, rec, http.StatusForbidden)
					return
				}
				form["csrf"] = tt.csrf
				wantStatus(t, tc.post(rt.path, se, form), http.StatusForbidden)
			})
		}
	}
	// Nothing changed.
	if _, err := tc.svc.Community(ctx, "moths"); err == nil {
		t.Error("a community was created without a CSRF token")
	}
	c, _ := tc.svc.Community(ctx, "seeds")
	if c.Title != "Seed savers" || c.JoinMode != "approval" {
		t.Errorf("seeds changed without a CSRF token: %+v", c)
	}
	if pending, _ := tc.svc.PendingFollows(ctx, "seeds"); len(pending) != 1 {
		t.Errorf("pending requests = %d, want 1", len(pending))
	}
	if mode, policies, _ := tc.svc.FederationPolicy(ctx); mode != "open" || len(policies) != 0 {
		t.Errorf("federation policy changed: %s %v", mode, policies)
	}
	if _, err := tc.svc.Session(ctx, se.token); err != nil {
		t.Errorf("logout without a CSRF token ended the session: %v", err)
	}
	if log, _ := tc.svc.AuditLog(ctx, 10); len(log) != 0 {
		t.Errorf("audit log = %+v, want nothing done", log)
	}
}

func TestAStewardCannotTouchAnotherCommunity(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	ctx := context.Background()
	tc.account("mo", storage.AccountSteward, map[string]string{"bees": storage.RoleModerator})
	se := tc.signIn("mo")

	// Its own community works.
	wantStatus(t, tc.get("/admin/communities/bees/members", se), http.StatusOK)
	rec := tc.get("/admin/", se)
	wantStatus(t, rec, http.StatusOK)
	if strings.Contains(rec.Body.String(), "Seed savers") {
		t.Error("a steward of bees sees seeds on the dashboard")
	}
	wantRedirect(t, tc.post("/admin/communities/bees/members/role", se, url.Values{"actor": {tc.bob.IRI}, "role": {"broker"}}), "/admin/communities/bees/members")

	for _, path := range []string{"/admin/communities/seeds", "/admin/communities/seeds/members", "/admin/communities/seeds/moderation",
		"/admin/communities/seeds/resources", "/admin/communities/seeds/meetings", "/admin/communities/seeds/brokers", "/admin/federation", "/admin/accounts", "/admin/audit"} {
		t.Run("GET "+path, func(t *testing.T) {
			wantStatus(t, tc.get(path, se), http.StatusForbidden)
		})
	}
	for _, rt := range postRoutes(tc) {
		if rt.path == "/admin/logout" || strings.HasPrefix(rt.path, "/admin/communities/bees") {
			continue
		}
		t.Run("POST "+rt.path, func(t *testing.T) {
			wantStatus(t, tc.post(rt.path, se, rt.form), http.StatusForbidden)
		})
	}
	if pending, _ := tc.svc.PendingFollows(ctx, "seeds"); len(pending) != 1 {
		t.Errorf("a steward of bees decided a request of seeds: %d pending, want 1", len(pending))
	}
	c, _ := tc.svc.Community(ctx, "seeds")
	if c.Title != "Seed savers" {
		t.Errorf("a steward of bees edited seeds: %+v", c)
	}
	_, rs, _ := tc.svc.Resources(ctx, c, storage.ResourcePublished, 0, 10)
	_, ms, _ := tc.svc.Meetings(ctx, c, 0, 10)
	if len(rs)+len(ms) != 0 {
		t.Errorf("a steward of bees added to seeds: %d resources, %d meetings", len(rs), len(ms))
	}

	// Objects of seeds cannot be reached through bees either.
	admin := tc.admin()
	wantRedirect(t, tc.post("/admin/communities/seeds/resources", admin, url.Values{"kind": {"link"}, "title": {"Seed guide"}, "url": {"https://example.org/s"}}), "/admin/communities/seeds/resources")
	wantRedirect(t, tc.post("/admin/communities/seeds/meetings", admin, url.Values{"title": {"Swap"}, "start": {"2026-07-01T18:00"}, "end": {"2026-07-01T19:00"}, "timezone": {"UTC"}}), "/admin/communities/seeds/meetings")
	_, rs, _ = tc.svc.Resources(ctx, c, storage.ResourcePublished, 0, 10)
	_, ms, _ = tc.svc.Meetings(ctx, c, 0, 10)
	if len(rs) != 1 || len(ms) != 1 {
		t.Fatalf("admin added %d resources and %d meetings, want 1 and 1", len(rs), len(ms))
	}
	wantStatus(t, tc.post("/admin/communities/bees/resources/state", se, url.Values{"resource": {rs[0].IRI}, "state": {"archived"}}), http.StatusForbidden)
	wantStatus(t, tc.post("/admin/communities/bees/meetings/cancel", se, url.Values{"meeting": {ms[0].Meeting.IRI}}), http.StatusForbidden)
	if res, _, _ := tc.svc.Resource(ctx, rs[0].IRI); res.State != storage.ResourcePublished {
		t.Errorf("a steward of bees archived a resource of seeds: %s", res.State)
	}
	if mv, _ := tc.svc.Meeting(ctx, ms[0].Meeting.IRI); mv.Meeting.Status == storage.MeetingCancelled {
		t.Error("a steward of bees cancelled a meeting of seeds")
	}
}

func TestABrokerCuratesButDoesNotModerate(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	tc.account("bro", storage.AccountSteward, map[string]string{"seeds": storage.RoleBroker})
	se := tc.signIn("bro")
	rec := tc.get("/admin/communities/seeds/members", se)
	wantStatus(t, rec, http.StatusOK)
	if strings.Contains(rec.Body.String(), "/members/approve") {
		t.Error("a broker is offered the approve form")
	}
	wantStatus(t, tc.post("/admin/communities/seeds/members/approve", se, url.Values{"actor": {tc.ann.IRI}}), http.StatusForbidden)
	wantStatus(t, tc.post("/admin/communities/seeds", se, url.Values{"title": {"Mine"}, "join": {"open"}, "posting": {"anyone"}}), http.StatusForbidden)
	wantRedirect(t, tc.post("/admin/communities/seeds/resources", se, url.Values{"kind": {"link"}, "title": {"Guide"}, "url": {"https://example.org/g"}}), "/admin/communities/seeds/resources")
	wantRedirect(t, tc.post("/admin/communities/seeds/meetings", se, url.Values{"title": {"Swap"}, "start": {"2026-07-01T18:00"}, "end": {"2026-07-01T19:00"}, "timezone": {"UTC"}}), "/admin/communities/seeds/meetings")
}
