package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// remoteGroup makes a remote community known to the instance.
func (tc *testConsole) remoteGroup(name string) storage.Actor {
	tc.t.Helper()
	a := storage.Actor{IRI: "https://remote.example/c/" + name, Type: "Group", Host: "remote.example", PreferredUsername: name,
		Name: "Remote " + name, Inbox: "https://remote.example/c/" + name + "/inbox", SharedInbox: "https://remote.example/inbox",
		Raw: []byte("{}"), FetchedAt: tc.clock.now(), ExpiresAt: tc.clock.now().Add(time.Hour)}
	if err := tc.st.UpsertActor(context.Background(), a); err != nil {
		tc.t.Fatal(err)
	}
	return a
}

func TestBrokersShare(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	orchards := tc.remoteGroup("orchards")
	if _, err := tc.svc.FollowCommunity(ctx, "bees", orchards); err != nil {
		t.Fatal(err)
	}
	rec := tc.get("/admin/communities/bees/brokers", se)
	wantStatus(t, rec, http.StatusOK)
	wantBody(t, rec, "<h1>Brokers</h1>", orchards.IRI, `<span class="tag">pending</span>`, "Nothing shared yet.", `aria-current="page">Brokers`)

	for _, tt := range []struct {
		name  string
		form  url.Values
		wants []string
	}{
		{"no object", url.Values{"object": {""}, "source": {"https://remote.example/c/orchards"}},
			[]string{`id="b-object-error">required`, `value="https://remote.example/c/orchards"`}},
		{"a script link and a bad source", url.Values{"object": {"javascript:alert(1)"}, "source": {"orchards"}},
			[]string{"must be an http(s) URL", `id="b-source-error"`, `value="orchards"`, `aria-invalid="true"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := tc.post("/admin/communities/bees/brokers/share", se, tt.form)
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			wantBody(t, rec, tt.wants...)
		})
	}

	object := "https://remote.example/c/orchards/threads/7"
	rec = tc.post("/admin/communities/bees/brokers/share", se, url.Values{"object": {object}, "source": {orchards.IRI}})
	wantRedirect(t, rec, "/admin/communities/bees/brokers?done=shared")
	bees, _ := tc.svc.Community(ctx, "bees")
	shares, err := tc.svc.Shares(ctx, bees)
	if err != nil || len(shares) != 1 {
		t.Fatalf("shares of bees = %+v, %v; want one", shares, err)
	}
	if sh := shares[0]; sh.ObjectIRI != object || sh.SourceIRI != orchards.IRI || sh.BrokerIRI != "root" {
		t.Errorf("share = %+v; want %s from %s by root", sh, object, orchards.IRI)
	}
	a, err := tc.st.OutboxActivityByIRI(ctx, shares[0].ActivityIRI)
	if err != nil || a.Type != "Announce" || a.CommunityID != bees.ID || !strings.Contains(string(a.Body), object) {
		t.Errorf("outbox activity of the share = %+v, %v; want an Announce of %s by bees", a, err, object)
	}
	if log, _ := tc.svc.AuditLog(ctx, 1); len(log) != 1 || log[0].Action != "broker share" || log[0].Target != object {
		t.Errorf("audit log = %+v, want the share first", log)
	}
	rec = tc.get("/admin/communities/bees/brokers?done=shared", se)
	wantBody(t, rec, "Shared: the community announces it", object)

	// Sharing it again is refused by the community layer: a form error.
	rec = tc.post("/admin/communities/bees/brokers/share", se, url.Values{"object": {object}})
	wantStatus(t, rec, http.StatusConflict)
	wantBody(t, rec, `id="b-object-error">`+object+" was shared into bees already", `value="`+object+`"`)
}

func TestBrokersShareIsGuarded(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	ctx := context.Background()
	tc.account("bro", storage.AccountSteward, map[string]string{"bees": storage.RoleBroker})
	bro := tc.signIn("bro")
	tc.account("mo", storage.AccountSteward, map[string]string{"seeds": storage.RoleModerator})
	mo := tc.signIn("mo")
	form := func() url.Values { return url.Values{"object": {"https://remote.example/notes/1"}} }

	t.Run("without the CSRF token", func(t *testing.T) {
		rec := tc.request(http.MethodPost, "/admin/communities/bees/brokers/share", bro, strings.NewReader(form().Encode()), "application/x-www-form-urlencoded")
		wantStatus(t, rec, http.StatusForbidden)
		f := form()
		f.Set("csrf", strings.Repeat("B", 43))
		wantStatus(t, tc.post("/admin/communities/bees/brokers/share", bro, f), http.StatusForbidden)
	})
	t.Run("a steward of another community", func(t *testing.T) {
		wantStatus(t, tc.get("/admin/communities/bees/brokers", mo), http.StatusForbidden)
		wantStatus(t, tc.post("/admin/communities/bees/brokers/share", mo, form()), http.StatusForbidden)
		wantStatus(t, tc.get("/admin/communities/seeds/brokers", bro), http.StatusForbidden)
	})
	bees, _ := tc.svc.Community(ctx, "bees")
	if shares, _ := tc.svc.Shares(ctx, bees); len(shares) != 0 {
		t.Fatalf("refused requests shared %+v", shares)
	}
	t.Run("a broker of the community", func(t *testing.T) {
		wantStatus(t, tc.get("/admin/communities/bees/brokers", bro), http.StatusOK)
		wantRedirect(t, tc.post("/admin/communities/bees/brokers/share", bro, form()), "/admin/communities/bees/brokers?done=shared")
		if shares, _ := tc.svc.Shares(ctx, bees); len(shares) != 1 || shares[0].BrokerIRI != "bro" {
			t.Errorf("shares = %+v, want one by bro", shares)
		}
	})
}
