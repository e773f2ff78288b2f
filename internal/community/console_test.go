package community_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
	"github.com/coppice-dev/coppice/storage/storagetest"
)

// clock is a settable test clock; tests that use one do not run it from
// several goroutines.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newService(t *testing.T) (*community.Service, *storage.Store, *clock) {
	t.Helper()
	st := storagetest.Open(t)
	clk := &clock{t: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	return community.New(st, clk.now, slog.New(slog.DiscardHandler), community.Options{}), st, clk
}

func TestLoginSessionsAndLogout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, clk := newService(t)
	if _, err := svc.CreateAdmin(ctx, "root", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, user, password string }{
		{"a wrong password", "root", "wrong horse battery"},
		{"an unknown username", "nobody", "correct horse battery"},
		{"an oversized password", "root", strings.Repeat("x", community.MaxPassword+1)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := svc.Login(ctx, tt.user, tt.password, time.Hour); !errors.Is(err, community.ErrForbidden) {
				t.Errorf("Login(%q, %q) = %v, want ErrForbidden", tt.user, tt.password, err)
			}
		})
	}

	token, cs, err := svc.Login(ctx, "root", "correct horse battery", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(token) != 43 || cs.User.Account.Username != "root" || !cs.User.IsAdmin() || len(cs.Session.CSRFToken) != 43 {
		t.Errorf("Login = %q, %+v; want a 32-byte token for admin root with a CSRF token", token, cs)
	}
	if _, err := st.SessionByHash(ctx, token, clk.now()); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the raw token is stored: SessionByHash(token) = %v, want ErrNotFound", err)
	}
	got, err := svc.Session(ctx, token)
	if err != nil || got.User.Account.ID != cs.User.Account.ID || got.Session.CSRFToken != cs.Session.CSRFToken {
		t.Errorf("Session(token) = %+v, %v; want the login's session", got, err)
	}
	for _, bad := range []string{"", "short", token + "x", strings.Repeat("A", 43)} {
		if _, err := svc.Session(ctx, bad); !errors.Is(err, community.ErrNotFound) {
			t.Errorf("Session(%q) = %v, want ErrNotFound", bad, err)
		}
	}
	log, err := svc.AuditLog(ctx, 10)
	if err != nil || len(log) != 1 || log[0].Action != "login" || log[0].Username != "root" || !log[0].At.Equal(clk.now()) {
		t.Errorf("AuditLog after login = %+v, %v; want one login by root now", log, err)
	}

	clk.advance(time.Hour)
	if _, err := svc.Session(ctx, token); !errors.Is(err, community.ErrNotFound) {
		t.Errorf("Session after its ttl = %v, want ErrNotFound", err)
	}

	token, _, err = svc.Login(ctx, "root", "correct horse battery", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Session(ctx, token); !errors.Is(err, community.ErrNotFound) {
		t.Errorf("Session after Logout = %v, want ErrNotFound", err)
	}
}

func TestStewardsMayRunOnlyTheirCommunities(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := newService(t)
	seeds := storagetest.Community(t, st, "seeds")
	bees := storagetest.Community(t, st, "bees")
	for _, n := range []community.NewAccount{
		{Username: "mo", Password: "0123456789", Kind: storage.AccountSteward},
		{Username: "bro", Password: "0123456789", Kind: storage.AccountSteward},
		{Username: "root", Password: "0123456789", Kind: storage.AccountAdmin},
	} {
		if _, err := svc.CreateAccount(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.SetSteward(ctx, "mo", "seeds", storage.RoleModerator); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetSteward(ctx, "bro", "seeds", storage.RoleBroker); err != nil {
		t.Fatal(err)
	}
	users := map[string]community.ConsoleUser{}
	accounts, err := svc.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range accounts {
		users[u.Account.Username] = u
	}
	tests := []struct {
		user string
		c    storage.Community
		what community.Capability
		want bool
	}{
		{"root", bees, community.CanModerate, true},
		{"mo", seeds, community.CanModerate, true},
		{"mo", seeds, community.CanCurate, true},
		{"mo", bees, community.CanView, false},
		{"bro", seeds, community.CanCurate, true},
		{"bro", seeds, community.CanView, true},
		{"bro", seeds, community.CanModerate, false},
		{"bro", bees, community.CanCurate, false},
	}
	for _, tt := range tests {
		if got := users[tt.user].May(tt.c, tt.what); got != tt.want {
			t.Errorf("%s.May(%s, %d) = %v, want %v", tt.user, tt.c.Name, tt.what, got, tt.want)
		}
	}

	d, err := svc.Dashboard(ctx, users["mo"])
	if err != nil || len(d.Communities) != 1 || d.Communities[0].Name != "seeds" {
		t.Errorf("Dashboard of a steward of seeds = %+v, %v; want seeds only", d, err)
	}
	d, err = svc.Dashboard(ctx, users["root"])
	if err != nil || len(d.Communities) != 2 {
		t.Errorf("Dashboard of an admin = %+v, %v; want both communities", d, err)
	}

	var invalid *community.InvalidError
	if err := svc.SetSteward(ctx, "root", "seeds", storage.RoleModerator); !errors.As(err, &invalid) {
		t.Errorf("SetSteward of an admin = %v, want InvalidError", err)
	}
	if err := svc.SetSteward(ctx, "mo", "seeds", storage.RoleOwner); !errors.As(err, &invalid) {
		t.Errorf("SetSteward as owner = %v, want InvalidError", err)
	}
	if err := svc.RemoveSteward(ctx, "mo", "seeds"); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteAccount(ctx, "root", "root"); err == nil {
		t.Error("an admin deleted their own account")
	}
	if err := svc.DeleteAccount(ctx, "mo", "root"); err != nil {
		t.Errorf("DeleteAccount(mo) = %v", err)
	}
}

func TestCreateAccountValidates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, _, _ := newService(t)
	tests := []struct {
		name  string
		in    community.NewAccount
		field string
	}{
		{"an upper-case username", community.NewAccount{Username: "Ann", Password: "0123456789", Kind: "steward"}, "username"},
		{"a short password", community.NewAccount{Username: "ann", Password: "short", Kind: "steward"}, "password"},
		{"an unknown kind", community.NewAccount{Username: "ann", Password: "0123456789", Kind: "owner"}, "kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.CreateAccount(ctx, tt.in)
			var invalid *community.InvalidError
			if !errors.As(err, &invalid) || invalid.Fields[tt.field] == "" {
				t.Errorf("CreateAccount(%+v) = %v, want an error on %s", tt.in, err, tt.field)
			}
		})
	}
	ok := community.NewAccount{Username: "ann", Password: "0123456789", Kind: "steward"}
	if _, err := svc.CreateAccount(ctx, ok); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateAccount(ctx, ok); !errors.Is(err, community.ErrConflict) {
		t.Errorf("CreateAccount twice = %v, want ErrConflict", err)
	}
	if _, err := svc.CheckPassword(ctx, "ann", "0123456789"); err != nil {
		t.Errorf("CheckPassword of a new steward = %v", err)
	}
}

func TestEditAndArchiveCommunity(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, st, _ := newService(t)
	storagetest.Community(t, st, "seeds")
	var invalid *community.InvalidError
	if _, err := svc.EditCommunity(ctx, "seeds", community.CommunityEdit{Title: " ", JoinMode: "closed"}); !errors.As(err, &invalid) ||
		invalid.Fields["title"] == "" || invalid.Fields["join"] == "" {
		t.Errorf("EditCommunity with no title and join closed = %v, want errors on title and join", err)
	}
	if _, err := svc.EditCommunity(ctx, "nobody", community.CommunityEdit{Title: "x", JoinMode: "open"}); !errors.Is(err, community.ErrNotFound) {
		t.Errorf("EditCommunity of a missing community = %v, want ErrNotFound", err)
	}
	c, err := svc.EditCommunity(ctx, "seeds", community.CommunityEdit{Title: " Seed savers ", Summary: "Saving seeds.", JoinMode: community.JoinApproval})
	if err != nil || c.Title != "Seed savers" || c.Summary != "Saving seeds." || c.JoinMode != community.JoinApproval {
		t.Errorf("EditCommunity = %+v, %v", c, err)
	}
	if err := svc.ArchiveCommunity(ctx, "seeds", true); err != nil {
		t.Fatal(err)
	}
	c, _ = svc.Community(ctx, "seeds")
	if c.JoinMode != community.JoinInvite || c.PostingPolicy != community.PostModerators {
		t.Errorf("archived community: join %s, posting %s; want invite and moderators", c.JoinMode, c.PostingPolicy)
	}
}

func TestRetryHostNeedsAHost(t *testing.T) {
	t.Parallel()
	svc, _, _ := newService(t)
	var invalid *community.InvalidError
	if _, err := svc.RetryHost(context.Background(), "  "); !errors.As(err, &invalid) {
		t.Errorf("RetryHost(blank) = %v, want InvalidError", err)
	}
	if n, err := svc.RetryHost(context.Background(), "Quiet.Example"); err != nil || n != 0 {
		t.Errorf("RetryHost of a host with no deliveries = %d, %v; want 0, nil", n, err)
	}
}
