package community

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coppice-dev/coppice/storage"
)

// Bounds of a decision.
const (
	MaxOptions     = 20
	MaxOptionRunes = 100
)

// NewDecision is a decision a moderator opens.
type NewDecision struct {
	Question string
	Options  []string
	Multiple bool // voters may choose several options (anyOf)
	Closes   time.Time
	TimeZone string
}

// Validate returns a message per bad field, or nil.
func (n *NewDecision) Validate(now time.Time) map[string]string {
	errs := map[string]string{}
	n.Question = strings.TrimSpace(n.Question)
	switch {
	case n.Question == "":
		errs["question"] = "required"
	case utf8.RuneCountInString(n.Question) > MaxTitle:
		errs["question"] = fmt.Sprintf("at most %d characters", MaxTitle)
	}
	seen := map[string]bool{}
	var opts []string
	for _, o := range n.Options {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if utf8.RuneCountInString(o) > MaxOptionRunes {
			errs["options"] = fmt.Sprintf("each option at most %d characters", MaxOptionRunes)
		}
		if seen[strings.ToLower(o)] {
			errs["options"] = fmt.Sprintf("option %q is given twice", o)
		}
		seen[strings.ToLower(o)] = true
		opts = append(opts, o)
	}
	n.Options = opts
	if len(opts) < 2 || len(opts) > MaxOptions {
		errs["options"] = fmt.Sprintf("give 2 to %d options", MaxOptions)
	}
	if _, err := time.LoadLocation(n.TimeZone); err != nil || n.TimeZone == "" || n.TimeZone == "Local" {
		errs["timezone"] = "must be an IANA time zone such as Europe/Rome"
	}
	switch {
	case n.Closes.IsZero():
		errs["closes"] = "required"
	case !n.Closes.After(now):
		errs["closes"] = "must be in the future"
	case n.Closes.After(now.AddDate(1, 0, 0)):
		errs["closes"] = "at most a year ahead"
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// DecisionView is a decision with its tally and community.
type DecisionView struct {
	Community storage.Community
	Decision  storage.Decision
	Tally     storage.Tally
}

// Open reports whether the decision still takes votes at now.
func (v DecisionView) Open(now time.Time) bool {
	return v.Decision.ClosedAt.IsZero() && now.Before(v.Decision.ClosesAt)
}

// OpenDecision opens a decision in a community, as a moderator (console,
// site or operator), and sends it to followers as a Question from the
// community, which Mastodon users answer as a poll.
func (s *Service) OpenDecision(ctx context.Context, p Principal, communityName string, n NewDecision) (storage.Decision, error) {
	if errs := n.Validate(s.now()); errs != nil {
		return storage.Decision{}, &InvalidError{Fields: errs}
	}
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return storage.Decision{}, err
	}
	var d storage.Decision
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		ok, err := s.may(ctx, tx, c, p, CanModerate)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: only moderators open decisions", ErrForbidden)
		}
		d, err = tx.CreateDecision(ctx, storage.Decision{
			CommunityID: c.ID, IRI: s.render.NewIRI(c, "decisions"), Question: n.Question, Options: n.Options, Multiple: n.Multiple,
			ClosesAt: n.Closes, TimeZone: n.TimeZone, CreatedBy: p.Name(), CreatedAt: s.now(),
		})
		if err != nil {
			return err
		}
		if err := s.sendDecision(ctx, tx, c, d, "Create"); err != nil {
			return err
		}
		return s.audit(ctx, tx, c, p, "open decision", d.IRI, d.Question)
	})
	return d, err
}

// IsDecision reports whether iri is one of our decisions.
func (s *Service) IsDecision(ctx context.Context, iri string) bool {
	_, err := s.store.DecisionByIRI(ctx, iri)
	return err == nil
}

// Vote in a decision: options are the names chosen (one for a single
// choice; for a single choice the last answer wins, for several each
// option counts once per voter; none withdraws). Only members in good
// standing vote, while the decision is open. in is the activity that
// carried the vote (zero for a vote on the site).
func (s *Service) VoteDecision(ctx context.Context, p Principal, in Incoming, decisionIRI string, options []string) error {
	d, err := s.store.DecisionByIRI(ctx, decisionIRI)
	if err != nil {
		return err
	}
	c, err := s.communityByID(ctx, d.CommunityID)
	if err != nil {
		return err
	}
	var positions []int
	for _, o := range options {
		i := indexFold(d.Options, o)
		if i < 0 {
			return &InvalidError{Fields: map[string]string{"option": fmt.Sprintf("%q is not an option of this decision", truncateRunes(o, 60))}}
		}
		if !containsInt(positions, i) {
			positions = append(positions, i)
		}
	}
	if len(positions) > 1 && !d.Multiple {
		return &InvalidError{Fields: map[string]string{"option": "choose one option"}}
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		d, err := tx.DecisionByIRI(ctx, decisionIRI)
		if err != nil {
			return err
		}
		if !d.ClosedAt.IsZero() || !s.now().Before(d.ClosesAt) {
			return refused("the decision is closed")
		}
		ok, err := s.may(ctx, tx, c, p, CanView)
		if err != nil {
			return err
		}
		if !ok || p.Actor == "" {
			return refused("only members of %s may vote in its decisions: follow it first", c.Name)
		}
		if in.IRI != "" {
			fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, c.ID))
			if err != nil || !fresh {
				return err
			}
		}
		if d.Multiple && in.IRI != "" && len(positions) == 1 {
			// Mastodon sends one Note per chosen option of a multiple
			// choice poll: add this one to the voter's others.
			prev, err := tx.DecisionVotesOf(ctx, d.ID, p.Actor)
			if err != nil {
				return err
			}
			if !containsInt(prev, positions[0]) {
				positions = append(prev, positions[0])
			} else {
				positions = prev
			}
		}
		_, err = tx.SetDecisionVotes(ctx, d.ID, p.Actor, sortedInts(positions), in.IRI, s.now())
		return err
	})
}

// CloseDecision closes a decision now (a moderator), freezing its result
// and telling followers with Update{Question} carrying closed.
func (s *Service) CloseDecision(ctx context.Context, p Principal, decisionIRI string) (storage.Decision, error) {
	d, err := s.store.DecisionByIRI(ctx, decisionIRI)
	if err != nil {
		return storage.Decision{}, err
	}
	c, err := s.communityByID(ctx, d.CommunityID)
	if err != nil {
		return storage.Decision{}, err
	}
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		ok, err := s.may(ctx, tx, c, p, CanModerate)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: only moderators close decisions", ErrForbidden)
		}
		closed, err := s.closeDecision(ctx, tx, c, d)
		if err != nil || !closed {
			return err
		}
		return s.audit(ctx, tx, c, p, "close decision", d.IRI, "")
	})
	if err != nil {
		return storage.Decision{}, err
	}
	return s.store.DecisionByIRI(ctx, decisionIRI)
}

func (s *Service) closeDecision(ctx context.Context, tx *storage.Tx, c storage.Community, d storage.Decision) (bool, error) {
	closed, err := tx.CloseDecision(ctx, d.ID, s.now())
	if err != nil || !closed {
		return false, err
	}
	d.ClosedAt = s.now()
	return true, s.sendDecision(ctx, tx, c, d, "Update")
}

func (s *Service) sendDecision(ctx context.Context, tx *storage.Tx, c storage.Community, d storage.Decision, verb string) error {
	t, err := tx.Tally(ctx, d)
	if err != nil {
		return err
	}
	a, err := s.render.Decision(c, d, t, verb)
	if err != nil {
		return err
	}
	a.Listed = true
	return s.deliver(ctx, tx, c, a, toFollowers)
}

// Decision returns a decision with its tally.
func (s *Service) Decision(ctx context.Context, iri string) (DecisionView, error) {
	d, err := s.store.DecisionByIRI(ctx, iri)
	if err != nil {
		return DecisionView{}, err
	}
	c, err := s.communityByID(ctx, d.CommunityID)
	if err != nil {
		return DecisionView{}, err
	}
	t, err := s.store.Tally(ctx, d)
	return DecisionView{Community: c, Decision: d, Tally: t}, err
}

// Decisions lists a community's decisions with their tallies, newest first.
func (s *Service) Decisions(ctx context.Context, c storage.Community, limit int) ([]DecisionView, error) {
	ds, err := s.store.Decisions(ctx, c.ID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]DecisionView, 0, len(ds))
	for _, d := range ds {
		t, err := s.store.Tally(ctx, d)
		if err != nil {
			return nil, err
		}
		out = append(out, DecisionView{Community: c, Decision: d, Tally: t})
	}
	return out, nil
}

// SendDecisionTallies closes the decisions whose time has come and sends
// the tallies of those whose votes changed at least settled ago: one
// Update{Question} per decision however many votes came in. It returns how
// many decisions it sent.
func (s *Service) SendDecisionTallies(ctx context.Context, settled time.Duration) (int, error) {
	sent := 0
	err := s.inTx(ctx, func(tx *storage.Tx) error {
		due, err := tx.DueDecisions(ctx, s.now(), 100)
		if err != nil {
			return err
		}
		for _, d := range due {
			c, err := s.communityByID(ctx, d.CommunityID)
			if err != nil {
				return err
			}
			if _, err := s.closeDecision(ctx, tx, c, d); err != nil {
				return err
			}
			sent++
		}
		changed, err := tx.TakeChangedTallies(ctx, s.now().Add(-settled), 100)
		if err != nil {
			return err
		}
		for _, d := range changed {
			c, err := s.communityByID(ctx, d.CommunityID)
			if err != nil {
				return err
			}
			if err := s.sendDecision(ctx, tx, c, d, "Update"); err != nil {
				return err
			}
			sent++
		}
		return nil
	})
	return sent, err
}

func indexFold(list []string, s string) int {
	s = strings.TrimSpace(s)
	for i, e := range list {
		if strings.EqualFold(e, s) {
			return i
		}
	}
	return -1
}

func containsInt(list []int, v int) bool { return slices.Contains(list, v) }

func sortedInts(v []int) []int {
	out := slices.Clone(v)
	slices.Sort(out)
	return out
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
