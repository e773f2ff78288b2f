package community_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

func TestCreateCommunity(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, tt := range []struct {
		name  string
		n     community.NewCommunity
		field string
	}{
		{"an upper-case name", community.NewCommunity{Name: "Seeds", Title: "t"}, "name"},
		{"no title", community.NewCommunity{Name: "beans", Title: " "}, "title"},
		{"a long summary", community.NewCommunity{Name: "beans", Title: "t", Summary: strings.Repeat("x", community.MaxSummary+1)}, "summary"},
		{"an unknown join mode", community.NewCommunity{Name: "beans", Title: "t", JoinMode: "closed"}, "join"},
	} {
		if _, err := w.svc.CreateCommunity(w.ctx, tt.n); !isInvalid(err, tt.field) {
			t.Errorf("CreateCommunity with %s = %v, want an error on %s", tt.name, err, tt.field)
		}
	}
	c, err := w.svc.CreateCommunity(w.ctx, community.NewCommunity{Name: "beans", Title: " Beans "})
	if err != nil || c.Title != "Beans" || c.JoinMode != community.JoinOpen || c.PostingPolicy != community.PostMembers || !c.BoostReplies || c.PublicKeyPEM == "" {
		t.Errorf("CreateCommunity = %+v, %v; want an open community with a key", c, err)
	}
	if _, err := w.svc.CreateCommunity(w.ctx, community.NewCommunity{Name: "beans", Title: "again"}); !errors.Is(err, community.ErrConflict) {
		t.Errorf("CreateCommunity twice = %v, want ErrConflict", err)
	}
	if cs, err := w.svc.Communities(w.ctx); err != nil || len(cs) != 2 {
		t.Errorf("Communities = %d, %v; want 2", len(cs), err)
	}
}

func TestProfileChangesAreSentToFollowers(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	if _, err := w.svc.UpdateSettings(w.ctx, w.c.Name, community.Settings{PostingPolicy: "everyone"}); !isInvalid(err, "posting") {
		t.Errorf("UpdateSettings(everyone) = %v, want InvalidError", err)
	}
	if err := w.svc.SetIcon(w.ctx, w.c.Name, "abc", ".bmp"); !isInvalid(err, "icon") {
		t.Errorf("SetIcon(.bmp) = %v, want InvalidError", err)
	}
	w.r.Reset()
	steps := map[string]func() error{
		"settings": func() error {
			_, err := w.svc.UpdateSettings(w.ctx, w.c.Name, community.Settings{PostingPolicy: community.PostAnyone})
			return err
		},
		"profile": func() error {
			_, err := w.svc.EditCommunity(w.ctx, w.c.Name, community.CommunityEdit{Title: "Seeds", JoinMode: community.JoinOpen})
			return err
		},
		"icon":    func() error { return w.svc.SetIcon(w.ctx, w.c.Name, "abc", ".png") },
		"archive": func() error { return w.svc.ArchiveCommunity(w.ctx, w.c.Name, true) },
	}
	for name, step := range steps {
		before := len(w.r.Of("UpdateGroup"))
		if err := step(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := w.r.Of("UpdateGroup")
		if len(got) != before+1 {
			t.Errorf("a change of %s rendered %d Update{Group}, want 1", name, len(got)-before)
			continue
		}
		if q := w.queued()[got[len(got)-1].Activity.IRI]; !sameSet(q, []string{ann.Inbox}) {
			t.Errorf("Update{Group} after %s queued for %v, want the follower", name, q)
		}
	}
}

func TestBrokersLinkCommunities(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	bees := storageCommunity(t, w, "bees")
	broker := w.member("https://b.example/users/bro")
	if err := w.svc.SetRole(w.ctx, community.Operator("admin"), w.c.Name, broker.IRI, storage.RoleBroker); err != nil {
		t.Fatal(err)
	}
	plain := w.member("https://a.example/users/ann")
	remote := w.actor("https://lemmy.example/c/beans")

	t.Run("a community follows only communities", func(t *testing.T) {
		if _, err := w.svc.FollowCommunity(w.ctx, w.c.Name, remote); !isRefused(err) {
			t.Errorf("FollowCommunity of a Person = %v, want refused", err)
		}
		remote.Type = "Group"
		rel, err := w.svc.FollowCommunity(w.ctx, w.c.Name, remote)
		if err != nil || rel.State != "pending" {
			t.Fatalf("FollowCommunity = %+v, %v", rel, err)
		}
		f := w.r.Of("FollowGroup")
		if len(f) != 1 || f[0].Object != remote.IRI || rel.FollowIRI != f[0].Activity.IRI {
			t.Fatalf("FollowCommunity rendered %+v, want a Follow of %s with the link's id", f, remote.IRI)
		}
		if q := w.queued()[f[0].Activity.IRI]; !sameSet(q, []string{remote.Inbox}) {
			t.Errorf("Follow queued for %v, want the group's inbox", q)
		}
		if ours, err := w.svc.FollowAnswered(w.ctx, w.in(plain, "Accept"), rel.FollowIRI, true); !ours || !isRefused(err) {
			t.Errorf("an Accept by someone else = %v, %v; want refused", ours, err)
		}
		if ours, err := w.svc.FollowAnswered(w.ctx, w.in(remote, "Accept"), rel.FollowIRI, true); !ours || err != nil {
			t.Errorf("the group's Accept = %v, %v", ours, err)
		}
		if ours, err := w.svc.FollowAnswered(w.ctx, w.in(remote, "Accept"), "https://elsewhere.example/f", true); ours || err != nil {
			t.Errorf("an Accept of a Follow not ours = %v, %v; want false", ours, err)
		}
		rels, err := w.svc.RelatedCommunities(w.ctx, w.c)
		if err != nil || len(rels) != 1 || rels[0].State != "accepted" {
			t.Errorf("RelatedCommunities = %+v, %v; want one accepted", rels, err)
		}
	})
	t.Run("brokers and moderators share; members may not", func(t *testing.T) {
		ann := w.member("https://c.example/users/cat")
		n := w.note(ann, "<p>Pollinators and beans</p>")
		w.mustSubmit(ann, n)
		if _, err := w.svc.Share(w.ctx, bees.Name, n.IRI, "", plain.IRI); !isRefused(err) {
			t.Errorf("Share by a stranger to bees = %v, want refused", err)
		}
		// plain is a member of seeds, not a broker: refused there too.
		if _, err := w.svc.Share(w.ctx, w.c.Name, n.IRI, "", plain.IRI); !isRefused(err) {
			t.Errorf("Share by a member = %v, want refused", err)
		}
		sh, err := w.svc.Share(w.ctx, bees.Name, n.IRI, "", "admin")
		if err != nil || sh.SourceIRI != w.r.CommunityIRI(w.c.Name) {
			t.Fatalf("Share by the admin = %+v, %v; want seeds as the source", sh, err)
		}
		if got := w.r.Of("Share"); len(got) != 1 || got[0].Community != bees.Name || got[0].Object != n.IRI {
			t.Errorf("Share rendered %+v, want bees announcing the post", got)
		}
		if _, err := w.svc.Share(w.ctx, bees.Name, n.IRI, "", "admin"); !isRefused(err) {
			t.Errorf("sharing twice = %v, want refused", err)
		}
		if _, err := w.svc.Share(w.ctx, w.c.Name, "https://lemmy.example/post/1", remote.IRI, broker.IRI); err != nil {
			t.Errorf("Share by a broker = %v", err)
		}
		if shares, err := w.svc.Shares(w.ctx, bees); err != nil || len(shares) != 1 {
			t.Errorf("Shares(bees) = %+v, %v", shares, err)
		}
	})
}

func TestActorsAndInstance(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	ann.PreferredUsername = "ann"
	if err := w.st.UpsertActor(w.ctx, ann); err != nil {
		t.Fatal(err)
	}
	for arg, want := range map[string]string{"@ann@a.example": ann.IRI, ann.IRI: ann.IRI} {
		if got, err := w.svc.ResolveActor(w.ctx, arg); err != nil || got != want {
			t.Errorf("ResolveActor(%q) = %q, %v; want %s", arg, got, err, want)
		}
	}
	if _, err := w.svc.ResolveActor(w.ctx, "ann"); !isInvalid(err, "actor") {
		t.Errorf("ResolveActor(ann) = %v, want InvalidError", err)
	}
	if _, err := w.svc.ResolveActor(w.ctx, "https://a.example/users/nobody"); !errors.Is(err, community.ErrNotFound) {
		t.Errorf("ResolveActor of an unknown actor = %v, want ErrNotFound", err)
	}

	// An actor's own Update changes its profile, never its key.
	updated := ann
	updated.Name, updated.KeyID, updated.PublicKeyPEM = "Ann B.", "https://evil.example/key", "stolen"
	if err := w.svc.ActorUpdated(w.ctx, w.in(ann, "Update"), updated); err != nil {
		t.Fatal(err)
	}
	got, err := w.svc.KnownActor(w.ctx, ann.IRI)
	if err != nil || got.Name != "Ann B." || got.KeyID == "https://evil.example/key" {
		t.Errorf("actor after its Update = %+v, %v; want the name changed and the key kept", got, err)
	}
	if m, err := w.svc.KnownActors(w.ctx, []string{ann.IRI}); err != nil || len(m) != 1 {
		t.Errorf("KnownActors = %v, %v", m, err)
	}
	// An account deleting itself leaves every community.
	if err := w.svc.ActorGone(w.ctx, w.in(ann, "Delete")); err != nil {
		t.Fatal(err)
	}
	if role, err := w.svc.Role(w.ctx, w.c, ann.IRI); err != nil || role != "" {
		t.Errorf("Role after the account's Delete = %q, %v; want none", role, err)
	}

	in, err := w.svc.Instance(w.ctx)
	if err != nil || in.PublicKeyPEM == "" {
		t.Fatalf("Instance = %+v, %v", in, err)
	}
	if again, err := w.svc.Instance(w.ctx); err != nil || again.PublicKeyPEM != in.PublicKeyPEM {
		t.Errorf("Instance twice made a new key: %v", err)
	}
	if u, err := w.svc.Usage(w.ctx); err != nil || u.Communities != 1 {
		t.Errorf("Usage = %+v, %v", u, err)
	}
	// An activity only recorded is seen once; a large one without its body.
	big := w.in(ann, "Arrive")
	big.Raw = []byte(strings.Repeat("x", community.MaxRecordedBody+1))
	if err := w.svc.Record(w.ctx, w.c.ID, big); err != nil {
		t.Fatal(err)
	}
	if a, err := w.st.InboxActivityByIRI(w.ctx, big.IRI); err != nil || len(a.Raw) != 0 {
		t.Errorf("recorded activity = %d bytes, %v; want its body dropped", len(a.Raw), err)
	}
}

func TestFederationPolicy(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	if err := w.svc.SetDomainPolicy(w.ctx, "bad.example", "nuke"); !isInvalid(err, "policy") {
		t.Errorf("SetDomainPolicy(nuke) = %v, want InvalidError", err)
	}
	if err := w.svc.SetDomainPolicy(w.ctx, "bad example", storage.PolicyBlock); !isInvalid(err, "host") {
		t.Errorf("SetDomainPolicy of a bad host = %v, want InvalidError", err)
	}
	if err := w.svc.SetFederationMode(w.ctx, "closed"); !isInvalid(err, "mode") {
		t.Errorf("SetFederationMode(closed) = %v, want InvalidError", err)
	}
	w.policy("Bad.Example", storage.PolicyBlock)
	w.policy("partner.example", storage.PolicyAllow)
	for host, want := range map[string]bool{"bad.example": false, "sub.bad.example": false, "other.example": true} {
		if got, err := w.svc.HostAllowed(w.ctx, host); err != nil || got != want {
			t.Errorf("HostAllowed(%s) in open mode = %v, %v; want %v", host, got, err, want)
		}
	}
	if err := w.svc.SetFederationMode(w.ctx, storage.ModeAllowlist); err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]bool{"partner.example": true, "other.example": false} {
		if got, err := w.svc.HostAllowed(w.ctx, host); err != nil || got != want {
			t.Errorf("HostAllowed(%s) in allowlist mode = %v, %v; want %v", host, got, err, want)
		}
	}
	mode, ps, err := w.svc.FederationPolicy(w.ctx)
	if err != nil || mode != storage.ModeAllowlist || ps["bad.example"] != storage.PolicyBlock || len(ps) != 2 {
		t.Errorf("FederationPolicy = %s, %v, %v", mode, ps, err)
	}
}

func TestViewsOfACommunity(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	n := w.note(ann, "<p>Tomatoes in June</p>")
	w.mustSubmit(ann, n)
	w.mustSubmit(ann, w.reply(ann, n.IRI, "<p>and July</p>"))
	total, ths, err := w.svc.Threads(w.ctx, w.c, 0, 10)
	if err != nil || total != 1 || len(ths) != 1 || ths[0].Title != "Tomatoes in June" {
		t.Fatalf("Threads = %d, %+v, %v", total, ths, err)
	}
	if n, _, err := w.svc.Threads(w.ctx, w.c, 0, 0); err != nil || n != 1 {
		t.Errorf("Threads count only = %d, %v", n, err)
	}
	if _, err := w.svc.Thread(w.ctx, "bees", ths[0].ID); !errors.Is(err, community.ErrNotFound) {
		t.Errorf("Thread of a missing community = %v, want ErrNotFound", err)
	}
	if name, err := w.svc.PostCommunity(w.ctx, n.IRI); err != nil || name != w.c.Name {
		t.Errorf("PostCommunity = %q, %v", name, err)
	}
	if id, err := w.svc.PostThread(w.ctx, w.post(n.IRI).ID); err != nil || id != ths[0].ID {
		t.Errorf("PostThread = %d, %v; want %d", id, err, ths[0].ID)
	}
	if total, iris, err := w.svc.Outbox(w.ctx, w.c, 0, 10); err != nil || total != 2 || len(iris) != 2 {
		t.Errorf("Outbox = %d, %d, %v; want the Announce{Create} of each post (the boosts are not listed)", total, len(iris), err)
	}
	if n, ms, err := w.svc.Members(w.ctx, w.c, 0, 10); err != nil || n != 1 || len(ms) != 1 {
		t.Errorf("Members = %d, %v, %v", n, ms, err)
	}
	top, err := w.svc.TopContributors(w.ctx, w.c, 5)
	if err != nil || len(top) != 1 || top[0].Total != 2 {
		t.Errorf("TopContributors = %+v, %v; want ann with a thread and a reply", top, err)
	}
	if hits, err := w.svc.Search(w.ctx, "", "july"); err != nil || len(hits) != 1 || hits[0].Snippet == "" {
		t.Errorf("Search(july) = %+v, %v; want the reply", hits, err)
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx, cancel := context.WithCancel(w.ctx)
	cancel()
	done := make(chan error, 1)
	go func() { done <- w.svc.Run(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil when its context ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}
