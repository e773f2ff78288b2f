package community_test

import (
	"testing"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

func TestResourceValidation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, tt := range []struct {
		name  string
		n     community.NewResource
		field string
	}{
		{"an unknown kind", community.NewResource{Kind: "meme", Title: "t", URL: "https://x.example/"}, "kind"},
		{"no title", community.NewResource{Kind: "link", URL: "https://x.example/"}, "title"},
		{"a javascript URL", community.NewResource{Kind: "link", Title: "t", URL: "javascript:alert(1)"}, "url"},
		{"a link without URL or file", community.NewResource{Kind: "link", Title: "t"}, "url"},
	} {
		if _, err := w.svc.AddResource(w.ctx, w.c.Name, tt.n); !isInvalid(err, tt.field) {
			t.Errorf("AddResource with %s = %v, want an error on %s", tt.name, err, tt.field)
		}
	}
	if !community.IsResourceKind("story") || community.IsResourceKind("meme") || len(community.ResourceKinds()) != 5 {
		t.Error("the resource kinds are not link, document, story, tool and method")
	}
}

func TestResourcesAreProposedPublishedAndArchived(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	bea := w.member("https://b.example/users/bea")
	stranger := w.actor("https://x.example/users/x")
	w.r.Reset()

	t.Run("members propose from their server; nothing is announced", func(t *testing.T) {
		if err := w.svc.Propose(w.ctx, w.c.Name, w.in(stranger, "Create"), w.note(stranger, "spam"), "https://spam.example/"); !isRefused(err) {
			t.Errorf("Propose by a stranger = %v, want refused", err)
		}
		n := w.note(ann, "<p>A good guide to saving seeds</p>")
		if err := w.svc.Propose(w.ctx, w.c.Name, w.in(ann, "Create"), n, "https://guide.example/seeds"); err != nil {
			t.Fatal(err)
		}
		total, rs, err := w.svc.Resources(w.ctx, w.c, storage.ResourceProposed, 0, 10)
		if err != nil || total != 1 || rs[0].URL != "https://guide.example/seeds" || rs[0].ProposedBy != ann.IRI || rs[0].Title == "" {
			t.Fatalf("proposed resources = %d, %+v, %v; want ann's link", total, rs, err)
		}
		if len(w.r.Rendered()) != 0 {
			t.Errorf("a proposal rendered %+v, want nothing", w.r.Rendered())
		}
	})
	t.Run("members propose on the site; strangers may not", func(t *testing.T) {
		n := community.NewResource{Kind: "method", Title: "Drying beans", Description: "On a rack", Tags: "#Beans, drying beans"}
		if _, err := w.svc.ProposeResource(w.ctx, community.Member(stranger.IRI), w.c.Name, n); !isRefused(err) {
			t.Errorf("ProposeResource by a stranger = %v, want refused", err)
		}
		if _, err := w.svc.ProposeResource(w.ctx, community.Operator(""), w.c.Name, n); !isRefused(err) {
			t.Errorf("ProposeResource by the operator = %v, want refused (the console adds resources)", err)
		}
		r, err := w.svc.ProposeResource(w.ctx, community.Member(bea.IRI), w.c.Name, n)
		if err != nil || r.State != storage.ResourceProposed || r.Tags != "beans drying" || r.AuthorIRI != bea.IRI {
			t.Errorf("ProposeResource by a member = %+v, %v; want a proposal tagged beans drying", r, err)
		}
	})
	t.Run("publishing announces; archiving removes", func(t *testing.T) {
		_, rs, err := w.svc.Resources(w.ctx, w.c, storage.ResourceProposed, 0, 10)
		if err != nil || len(rs) != 2 {
			t.Fatalf("proposed = %+v, %v", rs, err)
		}
		r, err := w.svc.SetResourceState(w.ctx, rs[0].IRI, storage.ResourcePublished, "admin")
		if err != nil || r.State != storage.ResourcePublished {
			t.Fatalf("publish = %+v, %v", r, err)
		}
		got := w.r.Of("ResourcePublished")
		if len(got) != 2 || got[0].Object != r.IRI || got[0].Verb != "Create" || got[1].Verb != "Add" {
			t.Fatalf("publish rendered %+v, want Create and Add of %s", got, r.IRI)
		}
		for _, x := range got {
			if q := w.queued()[x.Activity.IRI]; !sameSet(q, []string{ann.Inbox, bea.Inbox}) {
				t.Errorf("%s of the resource queued for %v, want every follower", x.Verb, q)
			}
		}
		if cs, err := w.svc.Contributions(w.ctx, r.ProposedBy); err != nil || len(cs) != 1 || cs[0].ByKind[storage.ContribResourcePublished] != 1 {
			t.Errorf("the proposer's ledger = %+v, %v; want one published resource", cs, err)
		}
		if _, err := w.svc.SetResourceState(w.ctx, r.IRI, storage.ResourceArchived, "admin"); err != nil {
			t.Fatal(err)
		}
		if got := w.objects("ResourceRemoved", "*"); !sameSet(got, []string{r.IRI}) {
			t.Errorf("archive rendered Remove of %v, want %s", got, r.IRI)
		}
		// Archiving a proposal that was never published tells nobody.
		w.r.Reset()
		if _, err := w.svc.SetResourceState(w.ctx, rs[1].IRI, storage.ResourceArchived, "admin"); err != nil || len(w.r.Rendered()) != 0 {
			t.Errorf("archiving a proposal = %v, rendered %+v; want nothing", err, w.r.Rendered())
		}
		if _, err := w.svc.SetResourceState(w.ctx, r.IRI, "burnt", "admin"); !isInvalid(err, "state") {
			t.Errorf("SetResourceState(burnt) = %v, want InvalidError", err)
		}
	})
	t.Run("the console adds published resources", func(t *testing.T) {
		w.r.Reset()
		r, err := w.svc.AddResource(w.ctx, w.c.Name, community.NewResource{Kind: "link", Title: "Seed bank", URL: "https://bank.example/", By: "admin"})
		if err != nil || r.State != storage.ResourcePublished {
			t.Fatalf("AddResource = %+v, %v", r, err)
		}
		if got := w.objects("ResourcePublished", "*"); !sameSet(got, []string{r.IRI, r.IRI}) {
			t.Errorf("AddResource rendered %v, want Create and Add of it", got)
		}
		got, c, err := w.svc.Resource(w.ctx, r.IRI)
		if err != nil || got.ID != r.ID || c.ID != w.c.ID {
			t.Errorf("Resource = %+v, %+v, %v", got, c, err)
		}
		if iri, err := w.svc.ResourceIRI(w.ctx, r.ID); err != nil || iri != r.IRI {
			t.Errorf("ResourceIRI = %q, %v", iri, err)
		}
		if hits, err := w.svc.Search(w.ctx, w.c.Name, "bank"); err != nil || len(hits) != 1 {
			t.Errorf("Search(bank) = %+v, %v; want the resource", hits, err)
		}
	})
}
