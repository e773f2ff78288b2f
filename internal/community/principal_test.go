package community_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

func TestPrincipalsMayWhatTheirRoleAllows(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	storageCommunity(t, w, "bees")
	admin, err := w.svc.CreateAccount(w.ctx, community.NewAccount{Username: "root", Password: "0123456789", Kind: storage.AccountAdmin})
	if err != nil {
		t.Fatal(err)
	}
	principals := map[string]community.Principal{
		"an admin":                   community.Console(community.ConsoleUser{Account: admin}),
		"a moderator steward":        community.Console(steward(t, w, "mo", w.c.Name, storage.RoleModerator)),
		"a broker steward":           community.Console(steward(t, w, "bro", w.c.Name, storage.RoleBroker)),
		"a steward of another place": community.Console(steward(t, w, "bee", "bees", storage.RoleModerator)),
		"the operator":               community.Operator(""),
		"a moderator member":         community.Member(w.moderator("https://m.example/users/mo").IRI),
		"a member":                   community.Member(w.member("https://a.example/users/ann").IRI),
	}
	// Who may curate (edit the wiki from the console) and who may
	// moderate (open decisions, revert pages, set the wiki policy).
	tests := []struct {
		who              string
		curate, moderate bool
	}{
		{"an admin", true, true},
		{"a moderator steward", true, true},
		{"a broker steward", true, false},
		{"a steward of another place", false, false},
		{"the operator", true, true},
		{"a moderator member", true, true},
		{"a member", true, false}, // members edit the wiki under the members policy
	}
	if _, err := w.svc.EditWiki(w.ctx, community.Operator(""), w.c.Name, community.WikiEdit{Slug: "p", Title: "P", Body: "v1"}); err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.who, func(t *testing.T) {
			p := principals[tt.who]
			v, err := w.svc.WikiPage(w.ctx, w.c.Name, "p", 0)
			if err != nil {
				t.Fatal(err)
			}
			_, err = w.svc.EditWiki(w.ctx, p, w.c.Name, community.WikiEdit{Slug: "p", Title: "P", Body: fmt.Sprintf("by %d", i), Base: v.Page.Revision})
			if got := err == nil; got != tt.curate {
				t.Errorf("EditWiki by %s = %v, want allowed %v", tt.who, err, tt.curate)
			}
			_, err = w.svc.OpenDecision(w.ctx, p, w.c.Name, community.NewDecision{Question: "Q?", Options: []string{"a", "b"},
				Closes: w.clk.now().Add(time.Hour), TimeZone: "Europe/Rome"})
			if got := err == nil; got != tt.moderate || (err != nil && !errors.Is(err, community.ErrForbidden)) {
				t.Errorf("OpenDecision by %s = %v, want allowed %v", tt.who, err, tt.moderate)
			}
			_, err = w.svc.RevertWiki(w.ctx, p, w.c.Name, "p", 1)
			if got := err == nil; got != tt.moderate {
				t.Errorf("RevertWiki by %s = %v, want allowed %v", tt.who, err, tt.moderate)
			}
			err = w.svc.SetWikiPolicy(w.ctx, p, w.c.Name, community.WikiMembers)
			if got := err == nil; got != tt.moderate {
				t.Errorf("SetWikiPolicy by %s = %v, want allowed %v", tt.who, err, tt.moderate)
			}
		})
	}
}

func TestPrincipalNames(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		p    community.Principal
		want string
	}{
		{community.Member("https://a.example/users/ann"), "https://a.example/users/ann"},
		{community.Console(community.ConsoleUser{Account: storage.Account{Username: "mo"}}), "console:mo"},
		{community.Operator(""), "cli:cli"},
		{community.Operator("ops"), "cli:ops"},
	} {
		if got := tt.p.Name(); got != tt.want {
			t.Errorf("Name() = %q, want %q", got, tt.want)
		}
	}
	u := community.ConsoleUser{Account: storage.Account{Kind: storage.AccountSteward}, Stewardships: []storage.Stewardship{{CommunityID: 7, Role: storage.RoleBroker}}}
	if u.StewardRole(7) != storage.RoleBroker || u.StewardRole(8) != "" {
		t.Errorf("StewardRole = %q and %q, want broker and none", u.StewardRole(7), u.StewardRole(8))
	}
}
