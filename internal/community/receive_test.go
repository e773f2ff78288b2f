package community_test

import (
	"slices"
	"testing"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// TestReceiveDecidesWhatACreateMeans: one entry point routes a post to its
// community, a reply naming an option to a decision or a meeting's poll,
// and a #resource post to the proposals.
func TestReceiveDecidesWhatACreateMeans(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	bees := storageCommunity(t, w, "bees")
	ann := w.member("https://a.example/users/ann")
	if _, err := w.svc.Follow(w.ctx, bees.Name, w.in(ann, "Follow"), ann.IRI+"/follows/bees"); err != nil {
		t.Fatal(err)
	}
	created := func(n community.Note, addressed ...string) error {
		n.ToCommunity = false
		return w.svc.Receive(w.ctx, community.Created{In: w.activity(ann, "Create", n), Note: n, Addressed: addressed})
	}
	threadOf := func(iri string) string {
		t.Helper()
		name, err := w.svc.PostCommunity(w.ctx, iri)
		if err != nil {
			t.Fatalf("PostCommunity(%s) = %v", iri, err)
		}
		return name
	}

	t.Run("a post goes to the first community it names", func(t *testing.T) {
		n := w.note(ann, "<p>Hives in spring</p>")
		if err := created(n, bees.Name, w.c.Name); err != nil {
			t.Fatal(err)
		}
		if got := threadOf(n.IRI); got != bees.Name {
			t.Errorf("the post went to %s, want bees", got)
		}
		reply := w.reply(ann, n.IRI, "<p>and swarms</p>")
		if err := created(reply, w.c.Name); err != nil {
			t.Fatal(err)
		}
		if got := threadOf(reply.IRI); got != bees.Name {
			t.Errorf("a reply naming seeds went to %s, want the thread's community bees", got)
		}
	})
	t.Run("a post for no community here is only recorded", func(t *testing.T) {
		n := w.note(ann, "<p>unrelated</p>")
		if err := created(n); err != nil || w.hasPost(n.IRI) {
			t.Errorf("Receive of a post for nobody = %v, stored %v; want recorded only", err, w.hasPost(n.IRI))
		}
	})
	t.Run("a reply named after an option is a decision vote", func(t *testing.T) {
		d := openDecision(t, w, false)
		vote := w.reply(ann, d.Decision.IRI, "")
		vote.Name = "Later"
		if err := created(vote); err != nil {
			t.Fatal(err)
		}
		if got := tally(t, w, d.Decision.IRI); !slices.Equal(got, []int{0, 0, 1}) {
			t.Errorf("tally = %v, want one vote for Later", got)
		}
		if w.hasPost(vote.IRI) {
			t.Error("the vote was stored as a post")
		}
	})
	t.Run("a reply to a meeting's poll is an answer", func(t *testing.T) {
		m, err := w.svc.CreateMeeting(w.ctx, w.c.Name, newMeeting(w, 0))
		if err != nil {
			t.Fatal(err)
		}
		vote := w.reply(ann, m.PollIRI, "")
		vote.Name = "Maybe"
		if err := created(vote); err != nil {
			t.Fatal(err)
		}
		bad := w.reply(ann, m.PollIRI, "")
		bad.Name = "Perhaps"
		if err := created(bad); !isInvalid(err, "name") {
			t.Errorf("a poll vote for Perhaps = %v, want InvalidError", err)
		}
		if v, err := w.svc.Meeting(w.ctx, m.IRI); err != nil || v.Counts != (storage.RSVPCounts{Maybe: 1}) {
			t.Errorf("counts = %+v, %v; want one maybe", v.Counts, err)
		}
	})
	t.Run("a #resource post with a link is a proposal", func(t *testing.T) {
		n := w.note(ann, `<p>A guide <a href="https://guide.example/bees">here</a> <a href="https://a.example/tags/resource" class="mention hashtag" rel="tag">#<span>resource</span></a></p>`)
		if err := created(n, bees.Name); err != nil {
			t.Fatal(err)
		}
		_, rs, err := w.svc.Resources(w.ctx, bees, storage.ResourceProposed, 0, 10)
		if err != nil || len(rs) != 1 || rs[0].URL != "https://guide.example/bees" {
			t.Errorf("proposals = %+v, %v; want the guide", rs, err)
		}
		if w.hasPost(n.IRI) {
			t.Error("the proposal was stored as a post")
		}
	})
}

func TestReceiveRoutesEveryOtherActivity(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	mod := w.moderator("https://m.example/users/mo")
	n := w.note(ann, "<p>Compost</p>")
	w.mustSubmit(ann, n)
	receive := func(a community.Activity) {
		t.Helper()
		if err := w.svc.Receive(w.ctx, a); err != nil {
			t.Fatalf("Receive(%T) = %v", a, err)
		}
	}

	edited := n
	edited.Content = "<p>Compost, turned</p>"
	receive(community.Edited{In: w.activity(ann, "Update", edited), Note: edited})
	if got := w.post(n.IRI).Content; got != edited.Content {
		t.Errorf("content after Edited = %q, want %q", got, edited.Content)
	}
	unknown := w.note(ann, "never seen")
	receive(community.Edited{In: w.activity(ann, "Update", unknown), Note: unknown})
	receive(community.Deleted{In: w.in(ann, "Delete"), ObjectIRI: unknown.IRI})
	if w.hasPost(unknown.IRI) {
		t.Error("an Update or Delete of an unknown post stored it")
	}

	receive(community.Voted{In: w.in(mod, "Like"), ObjectIRI: n.IRI, Kind: "like"})
	if cs, err := w.svc.Contributions(w.ctx, ann.IRI); err != nil || cs[0].ByKind[storage.ContribLikeReceived] != 1 {
		t.Errorf("ann's ledger after a Like = %+v, %v", cs, err)
	}

	m, err := w.svc.CreateMeeting(w.ctx, w.c.Name, newMeeting(w, 0))
	if err != nil {
		t.Fatal(err)
	}
	for typ, want := range map[string]storage.RSVPCounts{"Join": {Going: 1}, "TentativeAccept": {Maybe: 1}, "Reject": {Declined: 1}, "Leave": {}} {
		receive(community.Answered{In: w.in(ann, typ), Type: typ, ObjectIRI: m.IRI})
		if v, err := w.svc.Meeting(w.ctx, m.IRI); err != nil || v.Counts != want {
			t.Errorf("counts after %s = %+v, %v; want %+v", typ, v.Counts, err, want)
		}
	}
	receive(community.Answered{In: w.in(ann, "Accept"), Type: "Accept", ObjectIRI: "https://elsewhere.example/x"})

	receive(community.Moderated{In: w.in(mod, "Lock"), ObjectIRI: n.IRI, Action: community.ActionLock})
	if v, err := w.svc.Thread(w.ctx, w.c.Name, w.post(n.IRI).ThreadID); err != nil || !v.Thread.Locked {
		t.Errorf("thread after a moderator's Lock = %+v, %v; want locked", v.Thread, err)
	}
	receive(community.Deleted{In: w.in(ann, "Delete"), ObjectIRI: n.IRI})
	if w.post(n.IRI).DeletedAt.IsZero() {
		t.Error("the author's Delete did not remove the post")
	}

	bea := w.actor("https://b.example/users/bea")
	receive(community.Followed{In: w.in(bea, "Follow"), Community: w.c.Name})
	if role, err := w.svc.Role(w.ctx, w.c, bea.IRI); err != nil || role != storage.RoleMember {
		t.Errorf("Role after Followed = %q, %v; want member", role, err)
	}
	receive(community.Followed{In: w.in(bea, "Undo"), Community: w.c.Name, Undo: true})
	if role, err := w.svc.Role(w.ctx, w.c, bea.IRI); err != nil || role != "" {
		t.Errorf("Role after Followed{Undo} = %q, %v; want none", role, err)
	}
}
