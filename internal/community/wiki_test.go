package community_test

import (
	"errors"
	"testing"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// steward creates a console steward account with role in community name
// (role "" gives it none) and returns it as a console user.
func steward(t *testing.T, w *world, username, name, role string) community.ConsoleUser {
	t.Helper()
	if _, err := w.svc.CreateAccount(w.ctx, community.NewAccount{Username: username, Password: "0123456789", Kind: storage.AccountSteward}); err != nil {
		t.Fatal(err)
	}
	if role != "" {
		if err := w.svc.SetSteward(w.ctx, username, name, role); err != nil {
			t.Fatal(err)
		}
	}
	us, err := w.svc.Accounts(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Account.Username == username {
			return u
		}
	}
	t.Fatalf("no account %s", username)
	return community.ConsoleUser{}
}

func TestWikiPolicyDecidesWhoEdits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy string
		who    string // member, moderator, stranger, banned, broker steward, other steward, operator
		want   bool
	}{
		{"members policy: a member edits", community.WikiMembers, "member", true},
		{"members policy: a stranger is refused", community.WikiMembers, "stranger", false},
		{"members policy: a banned member is refused", community.WikiMembers, "banned", false},
		{"moderators policy: a member is refused", community.WikiModerators, "member", false},
		{"moderators policy: a moderator edits", community.WikiModerators, "moderator", true},
		{"a broker steward of the community edits", community.WikiModerators, "broker steward", true},
		{"a steward of another community is refused", community.WikiMembers, "other steward", false},
		{"the operator edits", community.WikiModerators, "operator", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t)
			w.member("https://b.example/users/bea")
			if err := w.svc.SetWikiPolicy(w.ctx, community.Operator(""), w.c.Name, tt.policy); err != nil {
				t.Fatal(err)
			}
			var p community.Principal
			switch tt.who {
			case "member":
				p = community.Member(w.member("https://a.example/users/ann").IRI)
			case "moderator":
				p = community.Member(w.moderator("https://a.example/users/ann").IRI)
			case "banned":
				p = community.Member(w.member("https://a.example/users/ann").IRI)
				w.ban(p.Actor)
			case "stranger":
				p = community.Member(w.actor("https://a.example/users/ann").IRI)
			case "broker steward":
				p = community.Console(steward(t, w, "bro", w.c.Name, storage.RoleBroker))
			case "other steward":
				storageCommunity(t, w, "bees")
				p = community.Console(steward(t, w, "bee", "bees", storage.RoleModerator))
			default:
				p = community.Operator("")
			}
			w.r.Reset()
			page, err := w.svc.EditWiki(w.ctx, p, w.c.Name, community.WikiEdit{Title: "Bean varieties", Body: "# Beans\n\nRunner, borlotti.", Summary: "start"})
			if tt.want != (err == nil) {
				t.Fatalf("EditWiki by %s = %v, want allowed %v", tt.who, err, tt.want)
			}
			if !tt.want {
				if !isRefused(err) && !errors.Is(err, community.ErrForbidden) {
					t.Errorf("EditWiki by %s = %v, want refused or ErrForbidden", tt.who, err)
				}
				if _, err := w.svc.WikiPage(w.ctx, w.c.Name, "bean-varieties", 0); !errors.Is(err, community.ErrNotFound) {
					t.Errorf("a refused edit saved a page: %v", err)
				}
				if len(w.r.Rendered()) != 0 {
					t.Errorf("a refused edit rendered %+v", w.r.Rendered())
				}
				return
			}
			if page.Slug != "bean-varieties" || page.Revision != 1 {
				t.Errorf("EditWiki = %+v, want revision 1 of bean-varieties", page)
			}
			got := w.r.Of("WikiArticle")
			if len(got) != 1 || got[0].Verb != "Create" || got[0].Object != page.IRI {
				t.Errorf("EditWiki rendered %+v, want Create{Article} of %s", got, page.IRI)
			}
			log, err := w.svc.AuditLog(w.ctx, 10)
			if err != nil || len(log) == 0 || log[0].Action != "edit wiki page" || log[0].Target != page.IRI || log[0].Community != w.c.Name {
				t.Errorf("AuditLog = %+v, %v; want the edit first", log, err)
			}
		})
	}
}

// storageCommunity inserts another community called name.
func storageCommunity(t *testing.T, w *world, name string) storage.Community {
	t.Helper()
	c, err := w.svc.CreateCommunity(w.ctx, community.NewCommunity{Name: name, Title: "Community " + name})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWikiEditsConflictRevertAndHistory(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := community.Member(w.member("https://a.example/users/ann").IRI)
	bea := community.Member(w.member("https://b.example/users/bea").IRI)
	mod := community.Member(w.moderator("https://m.example/users/mo").IRI)
	edit := func(p community.Principal, base int, body string) (storage.WikiPage, error) {
		return w.svc.EditWiki(w.ctx, p, w.c.Name, community.WikiEdit{Slug: "beans", Title: "Beans", Body: body, Base: base})
	}
	if _, err := edit(ann, 0, "one"); err != nil {
		t.Fatal(err)
	}
	if _, err := edit(ann, 1, "two"); err != nil {
		t.Fatal(err)
	}
	t.Run("a save over a newer revision is a conflict", func(t *testing.T) {
		_, err := edit(bea, 1, "bea's two")
		var conflict *community.WikiConflict
		if !errors.As(err, &conflict) || conflict.Current.Number != 2 || conflict.Current.Body != "two" || len(conflict.Diff) == 0 {
			t.Fatalf("EditWiki from revision 1 = %v, want a conflict with revision 2 and a diff", err)
		}
		if v, err := w.svc.WikiPage(w.ctx, w.c.Name, "beans", 0); err != nil || v.Revision.Body != "two" {
			t.Errorf("page after a conflict = %q, %v; want two", v.Revision.Body, err)
		}
	})
	t.Run("only moderators revert", func(t *testing.T) {
		if _, err := w.svc.RevertWiki(w.ctx, ann, w.c.Name, "beans", 1); !errors.Is(err, community.ErrForbidden) {
			t.Errorf("RevertWiki by a member = %v, want ErrForbidden", err)
		}
		if _, err := w.svc.RevertWiki(w.ctx, mod, w.c.Name, "beans", 2); !isInvalid(err, "revision") {
			t.Errorf("RevertWiki to the current revision = %v, want InvalidError", err)
		}
		w.r.Reset()
		page, err := w.svc.RevertWiki(w.ctx, mod, w.c.Name, "beans", 1)
		if err != nil || page.Revision != 3 {
			t.Fatalf("RevertWiki by a moderator = %+v, %v; want revision 3", page, err)
		}
		if v, err := w.svc.WikiPage(w.ctx, w.c.Name, "beans", 0); err != nil || v.Revision.Body != "one" || v.Revision.Author != mod.Actor {
			t.Errorf("page after revert = %+v, %v; want one, by the moderator", v.Revision, err)
		}
		if got := w.r.Of("WikiArticle"); len(got) != 1 || got[0].Verb != "Update" {
			t.Errorf("RevertWiki rendered %+v, want Update{Article}", got)
		}
		log, err := w.svc.AuditLog(w.ctx, 1)
		if err != nil || len(log) != 1 || log[0].Action != "revert wiki page" || log[0].Username != mod.Actor {
			t.Errorf("AuditLog = %+v, %v; want the revert", log, err)
		}
	})
	t.Run("history and differences", func(t *testing.T) {
		_, revs, err := w.svc.WikiHistory(w.ctx, w.c.Name, "beans")
		if err != nil || len(revs) != 3 || revs[0].Number != 3 {
			t.Errorf("WikiHistory = %+v, %v; want three revisions, newest first", revs, err)
		}
		_, diff, err := w.svc.WikiDiff(w.ctx, w.c.Name, "beans", 1, 2)
		if err != nil || len(diff) == 0 {
			t.Errorf("WikiDiff(1, 2) = %v, %v; want lines", diff, err)
		}
		n, pages, err := w.svc.WikiPages(w.ctx, w.c, 0, 10)
		if err != nil || n != 1 || len(pages) != 1 {
			t.Fatalf("WikiPages = %d, %v, %v", n, pages, err)
		}
		if iri, err := w.svc.WikiPageIRI(w.ctx, pages[0].ID); err != nil || iri != pages[0].IRI {
			t.Errorf("WikiPageIRI = %q, %v; want %s", iri, err, pages[0].IRI)
		}
	})
}

func TestWikiAuditIsWrittenInTheSameTransaction(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.r.Fail("WikiArticle", errors.New("render broke"))
	_, err := w.svc.EditWiki(w.ctx, community.Operator("ops"), w.c.Name, community.WikiEdit{Title: "Beans", Body: "Beans."})
	if err == nil {
		t.Fatal("EditWiki with a failing renderer succeeded")
	}
	if _, err := w.svc.WikiPage(w.ctx, w.c.Name, "beans", 0); !errors.Is(err, community.ErrNotFound) {
		t.Errorf("the page was kept although its activity failed: %v", err)
	}
	if log, err := w.svc.AuditLog(w.ctx, 10); err != nil || len(log) != 0 {
		t.Errorf("AuditLog = %+v, %v; want nothing of a failed edit", log, err)
	}
	w.r.Fail("WikiArticle", nil)
	if _, err := w.svc.EditWiki(w.ctx, community.Operator("ops"), w.c.Name, community.WikiEdit{Title: "Beans", Body: "Beans."}); err != nil {
		t.Fatal(err)
	}
	log, err := w.svc.AuditLog(w.ctx, 10)
	if err != nil || len(log) != 1 || log[0].Username != "cli:ops" {
		t.Errorf("AuditLog = %+v, %v; want one edit by cli:ops", log, err)
	}
}

func TestWikiValidationAndPolicy(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := community.Member(w.member("https://a.example/users/ann").IRI)
	for _, tt := range []struct {
		name  string
		e     community.WikiEdit
		field string
	}{
		{"no title", community.WikiEdit{Title: " ", Slug: "x", Body: "b"}, "title"},
		{"a bad slug", community.WikiEdit{Title: "T", Slug: "Not A Slug", Body: "b"}, "slug"},
		{"no body", community.WikiEdit{Title: "T", Body: "  "}, "body"},
		{"a negative base", community.WikiEdit{Title: "T", Body: "b", Base: -1}, "base"},
	} {
		if _, err := w.svc.EditWiki(w.ctx, ann, w.c.Name, tt.e); !isInvalid(err, tt.field) {
			t.Errorf("EditWiki with %s = %v, want an error on %s", tt.name, err, tt.field)
		}
	}
	for title, want := range map[string]string{"Bean Varieties!": "bean-varieties", "  Ünïcode & co ": "n-code-co", "2026 plan": "2026-plan"} {
		if got := community.Slug(title); got != want {
			t.Errorf("Slug(%q) = %q, want %q", title, got, want)
		}
	}
	if err := w.svc.SetWikiPolicy(w.ctx, ann, w.c.Name, community.WikiModerators); !errors.Is(err, community.ErrForbidden) {
		t.Errorf("SetWikiPolicy by a member = %v, want ErrForbidden", err)
	}
	if err := w.svc.SetWikiPolicy(w.ctx, community.Operator(""), w.c.Name, "everyone"); !isInvalid(err, "wiki") {
		t.Errorf("SetWikiPolicy(everyone) = %v, want InvalidError", err)
	}
	if p, err := w.svc.WikiPolicy(w.ctx, w.c); err != nil || p != community.WikiMembers {
		t.Errorf("WikiPolicy = %q, %v; want members (the default)", p, err)
	}
}
