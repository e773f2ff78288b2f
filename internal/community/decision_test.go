package community_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// openDecision opens a decision on Yes, No and Later in seeds, closing in
// a day, as the operator.
func openDecision(t *testing.T, w *world, multiple bool) community.DecisionView {
	t.Helper()
	d, err := w.svc.OpenDecision(w.ctx, community.Operator(""), w.c.Name, community.NewDecision{
		Question: "Swap in May?", Options: []string{"Yes", "No", "Later"}, Multiple: multiple,
		Closes: w.clk.now().Add(24 * time.Hour), TimeZone: "Europe/Rome",
	})
	if err != nil {
		t.Fatal(err)
	}
	v, err := w.svc.Decision(w.ctx, d.IRI)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// tally returns the votes per option of decision iri.
func tally(t *testing.T, w *world, iri string) []int {
	t.Helper()
	v, err := w.svc.Decision(w.ctx, iri)
	if err != nil {
		t.Fatal(err)
	}
	return v.Tally.Votes
}

func TestDecisionValidation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	now := w.clk.now()
	ok := community.NewDecision{Question: "Q?", Options: []string{"a", "b"}, Closes: now.Add(time.Hour), TimeZone: "Europe/Rome"}
	tests := []struct {
		name  string
		edit  func(*community.NewDecision)
		field string
	}{
		{"no question", func(n *community.NewDecision) { n.Question = "  " }, "question"},
		{"one option", func(n *community.NewDecision) { n.Options = []string{"a", " "} }, "options"},
		{"an option twice", func(n *community.NewDecision) { n.Options = []string{"a", "A"} }, "options"},
		{"a closing time in the past", func(n *community.NewDecision) { n.Closes = now.Add(-time.Minute) }, "closes"},
		{"a closing time two years ahead", func(n *community.NewDecision) { n.Closes = now.AddDate(2, 0, 0) }, "closes"},
		{"no time zone", func(n *community.NewDecision) { n.TimeZone = "" }, "timezone"},
	}
	for _, tt := range tests {
		n := ok
		n.Options = slices.Clone(ok.Options)
		tt.edit(&n)
		if _, err := w.svc.OpenDecision(w.ctx, community.Operator(""), w.c.Name, n); !isInvalid(err, tt.field) {
			t.Errorf("OpenDecision with %s = %v, want an error on %s", tt.name, err, tt.field)
		}
	}
}

func TestDecisionVotes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	bea := w.member("https://b.example/users/bea")
	stranger := w.actor("https://x.example/users/x")
	d := openDecision(t, w, false)
	if got := w.r.Of("Decision"); len(got) != 1 || got[0].Object != d.Decision.IRI || got[0].Verb != "Create" {
		t.Fatalf("OpenDecision rendered %+v, want Create of the Question", got)
	}
	if q := w.queued()[w.r.Of("Decision")[0].Activity.IRI]; !sameSet(q, []string{ann.Inbox, bea.Inbox}) {
		t.Errorf("Create{Question} queued for %v, want every follower", q)
	}
	vote := func(who storage.Actor, options ...string) error {
		return w.svc.VoteDecision(w.ctx, community.Member(who.IRI), w.in(who, "Create"), d.Decision.IRI, options)
	}
	t.Run("only members vote", func(t *testing.T) {
		if err := vote(stranger, "Yes"); !isRefused(err) {
			t.Errorf("a stranger's vote = %v, want refused", err)
		}
		if err := w.svc.VoteDecision(w.ctx, community.Operator(""), community.Incoming{}, d.Decision.IRI, []string{"Yes"}); !isRefused(err) {
			t.Errorf("the operator's vote = %v, want refused", err)
		}
		if got := tally(t, w, d.Decision.IRI); !slices.Equal(got, []int{0, 0, 0}) {
			t.Errorf("tally = %v, want no votes", got)
		}
	})
	t.Run("an answer must be an option", func(t *testing.T) {
		if err := vote(ann, "Maybe"); !isInvalid(err, "option") {
			t.Errorf("a vote for Maybe = %v, want InvalidError", err)
		}
		if err := vote(ann, "Yes", "No"); !isInvalid(err, "option") {
			t.Errorf("two options in a single choice = %v, want InvalidError", err)
		}
	})
	t.Run("the last answer wins", func(t *testing.T) {
		if err := vote(ann, "yes"); err != nil {
			t.Fatal(err)
		}
		if err := vote(ann, "No"); err != nil {
			t.Fatal(err)
		}
		if err := w.svc.VoteDecision(w.ctx, community.Member(bea.IRI), community.Incoming{}, d.Decision.IRI, []string{"No"}); err != nil {
			t.Fatal(err)
		}
		if got := tally(t, w, d.Decision.IRI); !slices.Equal(got, []int{0, 2, 0}) {
			t.Errorf("tally = %v, want two for No", got)
		}
	})
	t.Run("closing freezes the result", func(t *testing.T) {
		w.r.Reset()
		if _, err := w.svc.CloseDecision(w.ctx, community.Member(ann.IRI), d.Decision.IRI); !errors.Is(err, community.ErrForbidden) {
			t.Errorf("CloseDecision by a member = %v, want ErrForbidden", err)
		}
		closed, err := w.svc.CloseDecision(w.ctx, community.Operator(""), d.Decision.IRI)
		if err != nil || closed.ClosedAt.IsZero() {
			t.Fatalf("CloseDecision = %+v, %v", closed, err)
		}
		got := w.r.Of("Decision")
		if len(got) != 1 || got[0].Verb != "Update" || !got[0].Closed || !slices.Equal(got[0].Tally.Votes, []int{0, 2, 0}) {
			t.Errorf("CloseDecision rendered %+v, want one closed Update{Question} with the tally", got)
		}
		if err := vote(bea, "Yes"); !isRefused(err) {
			t.Errorf("a vote after closing = %v, want refused", err)
		}
		if got := tally(t, w, d.Decision.IRI); !slices.Equal(got, []int{0, 2, 0}) {
			t.Errorf("tally after closing = %v, want it frozen", got)
		}
		if _, err := w.svc.CloseDecision(w.ctx, community.Operator(""), d.Decision.IRI); err != nil || len(w.r.Of("Decision")) != 1 {
			t.Errorf("closing twice = %v with %d renders, want nothing new", err, len(w.r.Of("Decision")))
		}
		if v, err := w.svc.Decision(w.ctx, d.Decision.IRI); err != nil || v.Open(w.clk.now()) {
			t.Errorf("Decision.Open after closing = %v, %v", v.Open(w.clk.now()), err)
		}
	})
}

func TestMultipleChoiceVotes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	d := openDecision(t, w, true)
	// Mastodon sends one Note per chosen option.
	for _, o := range []string{"Yes", "Later", "Yes"} {
		if err := w.svc.VoteDecision(w.ctx, community.Member(ann.IRI), w.in(ann, "Create"), d.Decision.IRI, []string{o}); err != nil {
			t.Fatal(err)
		}
	}
	if got := tally(t, w, d.Decision.IRI); !slices.Equal(got, []int{1, 0, 1}) {
		t.Errorf("tally after Notes for Yes, Later and Yes = %v, want Yes and Later once", got)
	}
	// On the site the whole choice is sent at once and replaces the last.
	if err := w.svc.VoteDecision(w.ctx, community.Member(ann.IRI), community.Incoming{}, d.Decision.IRI, []string{"No", "Later"}); err != nil {
		t.Fatal(err)
	}
	v, err := w.svc.Decision(w.ctx, d.Decision.IRI)
	if err != nil || !slices.Equal(v.Tally.Votes, []int{0, 1, 1}) || v.Tally.Voters != 1 {
		t.Errorf("tally after a site vote for No and Later = %+v, %v; want No and Later, one voter", v.Tally, err)
	}
}

func TestSendDecisionTallies(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	bea := w.member("https://b.example/users/bea")
	due := openDecision(t, w, false)
	w.clk.advance(time.Hour)
	later := openDecision(t, w, false)
	for _, who := range []string{ann.IRI, bea.IRI} {
		if err := w.svc.VoteDecision(w.ctx, community.Member(who), community.Incoming{}, later.Decision.IRI, []string{"Yes"}); err != nil {
			t.Fatal(err)
		}
	}
	w.r.Reset()
	if n, err := w.svc.SendDecisionTallies(w.ctx, community.CountsSettle); err != nil || n != 0 {
		t.Errorf("SendDecisionTallies before the votes settled = %d, %v; want 0", n, err)
	}
	w.clk.advance(community.CountsSettle)
	n, err := w.svc.SendDecisionTallies(w.ctx, community.CountsSettle)
	if err != nil || n != 1 {
		t.Fatalf("SendDecisionTallies = %d, %v; want the tally of one decision", n, err)
	}
	if got := w.r.Of("Decision"); len(got) != 1 || got[0].Object != later.Decision.IRI || got[0].Closed || !slices.Equal(got[0].Tally.Votes, []int{2, 0, 0}) {
		t.Errorf("SendDecisionTallies rendered %+v, want one Update with two votes for Yes", got)
	}
	// A day after it opened, the first decision is due: it is closed and
	// its result sent.
	w.clk.t = due.Decision.ClosesAt
	w.r.Reset()
	if n, err := w.svc.SendDecisionTallies(w.ctx, community.CountsSettle); err != nil || n != 1 {
		t.Fatalf("SendDecisionTallies at the closing time = %d, %v; want 1", n, err)
	}
	got := w.r.Of("Decision")
	if len(got) != 1 || got[0].Object != due.Decision.IRI || !got[0].Closed {
		t.Errorf("SendDecisionTallies rendered %+v, want the due decision closed", got)
	}
	if v, err := w.svc.Decision(w.ctx, due.Decision.IRI); err != nil || v.Decision.ClosedAt.IsZero() {
		t.Errorf("the due decision = %+v, %v; want it closed", v.Decision, err)
	}
	ds, err := w.svc.Decisions(w.ctx, w.c, 10)
	if err != nil || len(ds) != 2 {
		t.Errorf("Decisions = %d, %v; want 2", len(ds), err)
	}
}

func TestOnlyModeratorsOpenDecisions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ann := w.member("https://a.example/users/ann")
	mod := w.moderator("https://m.example/users/mo")
	n := community.NewDecision{Question: "Q?", Options: []string{"a", "b"}, Closes: w.clk.now().Add(time.Hour), TimeZone: "Europe/Rome"}
	if _, err := w.svc.OpenDecision(w.ctx, community.Member(ann.IRI), w.c.Name, n); !errors.Is(err, community.ErrForbidden) {
		t.Errorf("OpenDecision by a member = %v, want ErrForbidden", err)
	}
	d, err := w.svc.OpenDecision(w.ctx, community.Member(mod.IRI), w.c.Name, n)
	if err != nil || d.CreatedBy != mod.IRI {
		t.Fatalf("OpenDecision by a moderator = %+v, %v", d, err)
	}
	log, err := w.svc.AuditLog(w.ctx, 10)
	if err != nil || len(log) == 0 || log[0].Action != "open decision" || log[0].Username != mod.IRI || log[0].Target != d.IRI {
		t.Errorf("AuditLog = %+v, %v; want the moderator's open decision", log, err)
	}
	if !w.svc.IsDecision(w.ctx, d.IRI) || w.svc.IsDecision(w.ctx, d.IRI+"x") {
		t.Error("IsDecision does not tell our decisions")
	}
}
