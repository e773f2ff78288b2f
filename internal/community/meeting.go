package community

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coppice-dev/coppice/internal/hostname"
	"github.com/coppice-dev/coppice/internal/ical"
	"github.com/coppice-dev/coppice/storage"
)

// NewMeeting is the input of CreateMeeting.
type NewMeeting struct {
	Title       string
	Description string
	Start, End  time.Time
	TimeZone    string // IANA name
	OnlineURL   string
	Place       string
	RRule       string
	Capacity    int
	By          string
}

// Bounds of a meeting's dates: a year 9999 meeting made the calendar feed
// fail (issue 11, bypass 7); no community schedules centuries ahead.
const (
	MinMeetingYear   = 2000
	MaxMeetingYear   = 2200
	MaxMeetingLength = 31 * 24 * time.Hour
)

// Validate returns a message per bad field, or nil.
func (n NewMeeting) Validate() map[string]string {
	errs := map[string]string{}
	if strings.TrimSpace(n.Title) == "" {
		errs["title"] = "required"
	} else if utf8.RuneCountInString(n.Title) > MaxTitle {
		errs["title"] = fmt.Sprintf("at most %d characters", MaxTitle)
	}
	if utf8.RuneCountInString(n.Description) > MaxSummary {
		errs["description"] = fmt.Sprintf("at most %d characters", MaxSummary)
	}
	switch {
	case n.Start.IsZero():
		errs["start"] = "required"
	case n.Start.UTC().Year() < MinMeetingYear || n.Start.UTC().Year() > MaxMeetingYear:
		errs["start"] = fmt.Sprintf("must be between the years %d and %d", MinMeetingYear, MaxMeetingYear)
	}
	switch {
	case !n.End.After(n.Start):
		errs["end"] = "must be after the start"
	case n.End.Sub(n.Start) > MaxMeetingLength:
		errs["end"] = "a meeting lasts at most 31 days"
	}
	if _, err := time.LoadLocation(n.TimeZone); err != nil || n.TimeZone == "" || n.TimeZone == "Local" {
		errs["timezone"] = "must be an IANA time zone such as Europe/Berlin"
	}
	if n.OnlineURL != "" {
		u, err := url.Parse(n.OnlineURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs["online"] = "must be an http(s) URL"
		}
	}
	if n.OnlineURL != "" && n.Place != "" {
		errs["place"] = "give a place or an online link, not both"
	}
	if n.RRule != "" {
		if _, err := ical.ParseRule(n.RRule); err != nil {
			errs["repeat"] = err.Error()
		}
	}
	if n.Capacity < 0 {
		errs["capacity"] = "must not be negative"
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// CreateMeeting schedules a meeting and announces its Event and its RSVP
// poll to every follower.
func (s *Service) CreateMeeting(ctx context.Context, communityName string, n NewMeeting) (storage.Meeting, error) {
	if errs := n.Validate(); errs != nil {
		return storage.Meeting{}, &InvalidError{Fields: errs}
	}
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return storage.Meeting{}, err
	}
	var out storage.Meeting
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		iri := s.render.NewIRI(c, "events")
		out, err = tx.CreateMeeting(ctx, storage.Meeting{
			CommunityID: c.ID, IRI: iri, PollIRI: iri + "/poll",
			Title: strings.TrimSpace(n.Title), Description: strings.TrimSpace(n.Description),
			Start: n.Start, End: n.End, TimeZone: n.TimeZone, OnlineURL: n.OnlineURL, Place: n.Place,
			RRule: n.RRule, Status: storage.MeetingConfirmed, Capacity: n.Capacity, CreatedBy: n.By, CreatedAt: s.now(),
		})
		if err != nil {
			return err
		}
		return s.sendMeeting(ctx, tx, c, out, storage.RSVPCounts{}, "Create")
	})
	return out, err
}

// CancelMeeting marks a meeting cancelled and sends the Update.
func (s *Service) CancelMeeting(ctx context.Context, iri string) (storage.Meeting, error) {
	m, err := s.store.MeetingByIRI(ctx, iri)
	if err != nil {
		return storage.Meeting{}, err
	}
	c, err := s.communityByID(ctx, m.CommunityID)
	if err != nil {
		return storage.Meeting{}, err
	}
	if m.Status == storage.MeetingCancelled {
		return m, nil
	}
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		m.Status, m.UpdatedAt = storage.MeetingCancelled, s.now()
		m, err = tx.UpdateMeeting(ctx, m)
		if err != nil {
			return err
		}
		counts, err := tx.RSVPCounts(ctx, m.ID)
		if err != nil {
			return err
		}
		return s.sendMeeting(ctx, tx, c, m, counts, "Update")
	})
	return m, err
}

func (s *Service) sendMeeting(ctx context.Context, tx *storage.Tx, c storage.Community, m storage.Meeting, counts storage.RSVPCounts, verb string) error {
	acts, err := s.render.Meeting(c, m, counts, verb)
	if err != nil {
		return err
	}
	for _, a := range acts {
		a.Listed = true
		if err := s.deliver(ctx, tx, c, a, toFollowers); err != nil {
			return err
		}
	}
	return nil
}

// RSVP records a member's answer to a meeting (answer "" removes it): from
// Mobilizon's Join/Leave, Friendica's Accept/TentativeAccept/Reject, or a
// vote in the meeting's poll. One answer per actor, the last one wins; when
// the counts change, the Event and the poll are sent again with them.
func (s *Service) RSVP(ctx context.Context, in Incoming, meetingIRI, answer string) error {
	m, err := s.store.MeetingByIRI(ctx, meetingIRI)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c, err := s.communityByID(ctx, m.CommunityID)
	if err != nil {
		return err
	}
	if m.Status == storage.MeetingCancelled && answer != "" {
		return refused("the meeting was cancelled")
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		// Only members in good standing answer a community's meetings:
		// strangers could otherwise fill a meeting's places and keep its
		// members out (issue 11, bypass 3). Taking an answer back is
		// always allowed.
		st, err := s.standingOf(ctx, tx, c, in)
		if err != nil {
			return err
		}
		if answer != "" && (st.banned || !st.member) {
			return refused("only members of %s may answer its meetings: follow it first", c.Name)
		}
		if in.IRI != "" { // an answer from the fediverse, handled once
			fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, c.ID))
			if err != nil || !fresh {
				return err
			}
		}
		var changed bool
		if answer == "" {
			changed, err = tx.RemoveRSVP(ctx, m.ID, in.Actor.IRI)
		} else {
			if answer == storage.RSVPGoing && m.Capacity > 0 {
				// Someone already going keeps their place when they
				// answer again (a retried Join is not refused).
				prev, err := tx.RSVPOf(ctx, m.ID, in.Actor.IRI)
				if err != nil {
					return err
				}
				counts, err := tx.RSVPCounts(ctx, m.ID)
				if err != nil {
					return err
				}
				if prev != storage.RSVPGoing && counts.Going >= m.Capacity {
					return refused("the meeting is full")
				}
			}
			changed, err = tx.SetRSVP(ctx, m.ID, in.Actor.IRI, answer, in.IRI, s.now())
		}
		if err != nil || !changed {
			return err
		}
		// An answer of going counts as attending on the ledger; it is
		// taken back when the answer changes.
		if answer == storage.RSVPGoing {
			err = tx.RecordContribution(ctx, c.ID, in.Actor.IRI, storage.ContribMeetingAttended, m.IRI, s.now())
		} else {
			err = tx.RemoveContribution(ctx, c.ID, in.Actor.IRI, storage.ContribMeetingAttended, m.IRI)
		}
		if err != nil {
			return err
		}
		// The new counts go out with the next batch (SendChangedCounts),
		// not one Update per answer: a member toggling Join and Leave
		// would otherwise make two activities and a delivery per follower
		// each time (issue 11, bypass 3).
		return tx.MarkCountsChanged(ctx, m.ID, s.now())
	})
}

// AnswerMeeting records the answer of a member signed in on the site
// (p.Actor): the same rules and the same batched federation as an answer
// from the fediverse.
func (s *Service) AnswerMeeting(ctx context.Context, p Principal, meetingIRI, answer string) error {
	if p.Actor == "" {
		return ErrForbidden
	}
	switch answer {
	case "", storage.RSVPGoing, storage.RSVPMaybe, storage.RSVPDeclined:
	default:
		return &InvalidError{Fields: map[string]string{"answer": "want going, maybe or declined"}}
	}
	if _, err := s.store.MeetingByIRI(ctx, meetingIRI); err != nil {
		return err
	}
	return s.RSVP(ctx, Incoming{Type: "Answer", Actor: storage.Actor{IRI: p.Actor, Host: hostname.Of(p.Actor)}}, meetingIRI, answer)
}

// CountsSettle is how long a meeting's answers must rest before its new
// counts are sent; Run sends them at this pace.
const CountsSettle = 30 * time.Second

// SendChangedCounts sends Update{Event} and Update{Question} with the
// current counts for every meeting whose answers changed at least settled
// ago, one pair per meeting however many answers came in. It returns how
// many meetings it sent.
func (s *Service) SendChangedCounts(ctx context.Context, settled time.Duration) (int, error) {
	sent := 0
	err := s.inTx(ctx, func(tx *storage.Tx) error {
		ms, err := tx.TakeChangedCounts(ctx, s.now().Add(-settled), 100)
		if err != nil {
			return err
		}
		for _, m := range ms {
			c, err := s.communityByID(ctx, m.CommunityID)
			if err != nil {
				return err
			}
			counts, err := tx.RSVPCounts(ctx, m.ID)
			if err != nil {
				return err
			}
			if err := s.sendMeeting(ctx, tx, c, m, counts, "Update"); err != nil {
				return err
			}
		}
		sent = len(ms)
		return nil
	})
	return sent, err
}

// Run does the community's timed work until ctx ends: every half
// CountsSettle it sends changed meeting counts and decision tallies, and
// closes the decisions whose time has come. Errors are logged and retried
// at the next turn.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(CountsSettle / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := s.SendChangedCounts(ctx, CountsSettle); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "send meeting counts", "err", err)
			}
			if _, err := s.SendDecisionTallies(ctx, CountsSettle); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "send decision tallies", "err", err)
			}
		}
	}
}

// MeetingView is a meeting with its counts and community.
type MeetingView struct {
	Community storage.Community
	Meeting   storage.Meeting
	Counts    storage.RSVPCounts
}

// Meeting returns a meeting by the IRI of its Event or poll.
func (s *Service) Meeting(ctx context.Context, iri string) (MeetingView, error) {
	m, err := s.store.MeetingByIRI(ctx, iri)
	if err != nil {
		return MeetingView{}, err
	}
	c, err := s.communityByID(ctx, m.CommunityID)
	if err != nil {
		return MeetingView{}, err
	}
	counts, err := s.store.RSVPCounts(ctx, m.ID)
	return MeetingView{Community: c, Meeting: m, Counts: counts}, err
}

// Meetings lists a community's meetings with their counts, latest first.
func (s *Service) Meetings(ctx context.Context, c storage.Community, offset, limit int) (int, []MeetingView, error) {
	total, err := s.store.CountMeetings(ctx, c.ID)
	if err != nil || limit == 0 {
		return total, nil, err
	}
	ms, err := s.store.Meetings(ctx, c.ID, offset, limit)
	if err != nil {
		return 0, nil, err
	}
	out := make([]MeetingView, 0, len(ms))
	for _, m := range ms {
		counts, err := s.store.RSVPCounts(ctx, m.ID)
		if err != nil {
			return 0, nil, err
		}
		out = append(out, MeetingView{Community: c, Meeting: m, Counts: counts})
	}
	return total, out, nil
}

// Search finds posts and resources; an empty community name searches the
// whole instance.
func (s *Service) Search(ctx context.Context, communityName, q string) ([]storage.Hit, error) {
	var id int64
	if communityName != "" {
		c, err := s.store.CommunityByName(ctx, communityName)
		if err != nil {
			return nil, err
		}
		id = c.ID
	}
	return s.store.Search(ctx, q, id, 50)
}

// UpdateMeeting changes a meeting's details and sends Update of its Event
// and poll to every follower.
func (s *Service) UpdateMeeting(ctx context.Context, iri string, n NewMeeting) (storage.Meeting, error) {
	if errs := n.Validate(); errs != nil {
		return storage.Meeting{}, &InvalidError{Fields: errs}
	}
	m, err := s.store.MeetingByIRI(ctx, iri)
	if err != nil {
		return storage.Meeting{}, err
	}
	c, err := s.communityByID(ctx, m.CommunityID)
	if err != nil {
		return storage.Meeting{}, err
	}
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		m.Title, m.Description = strings.TrimSpace(n.Title), strings.TrimSpace(n.Description)
		m.Start, m.End, m.TimeZone = n.Start, n.End, n.TimeZone
		m.OnlineURL, m.Place, m.RRule, m.Capacity = n.OnlineURL, n.Place, n.RRule, n.Capacity
		m.UpdatedAt = s.now()
		m, err = tx.UpdateMeeting(ctx, m)
		if err != nil {
			return err
		}
		counts, err := tx.RSVPCounts(ctx, m.ID)
		if err != nil {
			return err
		}
		return s.sendMeeting(ctx, tx, c, m, counts, "Update")
	})
	return m, err
}
