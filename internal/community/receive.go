package community

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/coppice-dev/coppice/storage"
)

// Activity is a verified activity from another server, as federation
// translated it: one of the types below. Federation reads the wire format
// and checks authenticity (signature, origin, who may undo what);
// Receive decides what the activity means for a community — which
// community, whether a reply is a vote, whether a post proposes a resource
// — and applies every rule in the transaction that writes.
type Activity interface {
	incoming() Incoming
}

// Created is a Create of a post-like object (Note, Page, Article,
// Question, Video).
type Created struct {
	In   Incoming
	Note Note
	// Addressed are the communities of this instance the post names (to,
	// cc, audience, mentions), in order.
	Addressed []string
	// Inbox is the community whose inbox received it ("" for the shared
	// inbox).
	Inbox string
	// Ancestors are parents of Note federation fetched because we did not
	// have them, nearest first.
	Ancestors []Note
}

// Edited is an author's Update of a post.
type Edited struct {
	In   Incoming
	Note Note
}

// Deleted is a Delete of a post (by its author or a moderator).
type Deleted struct {
	In        Incoming
	ObjectIRI string
}

// Voted is a Like ("like"), Lemmy's Dislike ("dislike"), or the Undo of
// either (Kind "").
type Voted struct {
	In        Incoming
	Inbox     string
	ObjectIRI string
	Kind      string
}

// Answered is Mobilizon's Join or Leave, Friendica's Accept,
// TentativeAccept or Reject, or the Undo of one (Type "Undo"): an answer
// to one of our meetings, or to a Follow one of our communities sent.
type Answered struct {
	In        Incoming
	Type      string // Join, Leave, Accept, TentativeAccept, Reject, Undo
	ObjectIRI string
}

// Followed is a Follow of one of our communities, or its Undo.
type Followed struct {
	In        Incoming
	Community string
	Undo      bool
}

// Moderated is a remote moderator's Lock or Undo{Lock} of a thread.
type Moderated struct {
	In        Incoming
	ObjectIRI string
	Action    string // ActionLock or ActionUnlock
}

// GroupAction is a moderator's action in a community: Lemmy's Block (a
// member banned from the community), and Add and Remove of a moderator
// (target: the community's moderators collection). Community is the one
// its target names.
type GroupAction struct {
	In        Incoming
	Community string
	Type      string
	// Collection is the community's collection the target names
	// ("moderators"), or "" for the community itself.
	Collection string
	// ObjectIRI is what the action is about (the member a Block bans);
	// Reason its summary.
	ObjectIRI string
	Reason    string
	// Undo: the action is undone (Undo{Block} lifts the ban).
	Undo bool
}

func (a Created) incoming() Incoming     { return a.In }
func (a Edited) incoming() Incoming      { return a.In }
func (a Deleted) incoming() Incoming     { return a.In }
func (a Voted) incoming() Incoming       { return a.In }
func (a Answered) incoming() Incoming    { return a.In }
func (a Followed) incoming() Incoming    { return a.In }
func (a Moderated) incoming() Incoming   { return a.In }
func (a GroupAction) incoming() Incoming { return a.In }

// PollOptions are the options of a meeting's poll, for Mastodon users who
// have no RSVP, and the answers they stand for.
var PollOptions = []struct{ Name, Answer string }{
	{"Going", storage.RSVPGoing},
	{"Maybe", storage.RSVPMaybe},
	{"Not going", storage.RSVPDeclined},
}

// pollAnswer maps a vote's option name to an RSVP answer.
func pollAnswer(name string) (string, bool) {
	for _, o := range PollOptions {
		if strings.EqualFold(strings.TrimSpace(name), o.Name) {
			return o.Answer, true
		}
	}
	return "", false
}

// answerOf maps an answering activity to an RSVP answer ("" removes it).
func answerOf(typ string) string {
	switch typ {
	case "Join", "Accept":
		return storage.RSVPGoing
	case "TentativeAccept":
		return storage.RSVPMaybe
	case "Reject":
		return storage.RSVPDeclined
	}
	return "" // Leave, Undo
}

// Receive applies a verified activity to the community it concerns.
func (s *Service) Receive(ctx context.Context, a Activity) error {
	switch a := a.(type) {
	case Created:
		return s.receiveCreated(ctx, a)
	case Edited:
		name, err := s.PostCommunity(ctx, a.Note.IRI)
		if errors.Is(err, ErrNotFound) {
			// GRP-09: never announced, ignored; unless it waits for a
			// moderator, who then sees the edited post.
			return s.editHeld(ctx, a.In, a.Note)
		}
		if err != nil {
			return err
		}
		return s.Edit(ctx, name, a.In, a.Note)
	case Deleted:
		name, err := s.PostCommunity(ctx, a.ObjectIRI)
		if errors.Is(err, ErrNotFound) {
			return s.withdrawHeld(ctx, a.In, a.ObjectIRI)
		}
		if err != nil {
			return err
		}
		return s.Delete(ctx, name, a.In, a.ObjectIRI)
	case Voted:
		return s.vote(ctx, a.Inbox, a.In, a.ObjectIRI, a.Kind)
	case Answered:
		return s.receiveAnswered(ctx, a)
	case Followed:
		if a.Undo {
			return s.Unfollow(ctx, a.Community, a.In)
		}
		_, err := s.Follow(ctx, a.Community, a.In, a.In.IRI)
		return err
	case Moderated:
		return s.ModerateThreadAs(ctx, a.In, a.ObjectIRI, a.Action)
	case GroupAction:
		return s.receiveGroupAction(ctx, a)
	}
	return s.Record(ctx, 0, a.incoming())
}

// receiveCreated decides what a Create of a post means: a vote in a
// decision or in a meeting's poll (Mastodon and GoToSocial send a Note
// named after the option, replying to the Question), a resource proposal
// (a post with #resource and a link), or a post. A post lives in one
// community: the one of the thread it replies into, else the first
// community it names, else the community whose inbox received it.
func (s *Service) receiveCreated(ctx context.Context, a Created) error {
	n := a.Note
	if n.InReplyTo != "" && n.Name != "" {
		if s.IsDecision(ctx, n.InReplyTo) {
			return s.VoteDecision(ctx, Member(a.In.Actor.IRI), a.In, n.InReplyTo, []string{n.Name})
		}
		if m, err := s.store.MeetingByIRI(ctx, n.InReplyTo); err == nil && m.PollIRI == n.InReplyTo {
			answer, ok := pollAnswer(n.Name)
			if !ok {
				return &InvalidError{Fields: map[string]string{"name": "not an option of the poll"}}
			}
			return s.RSVP(ctx, a.In, m.IRI, answer)
		} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	var name string
	if n.InReplyTo != "" {
		if c, err := s.PostCommunity(ctx, n.InReplyTo); err == nil {
			name = c
		} else {
			for _, anc := range a.Ancestors {
				if c, err := s.PostCommunity(ctx, anc.InReplyTo); err == nil {
					name = c
					break
				}
			}
		}
	}
	if name == "" && len(a.Addressed) > 0 {
		name = a.Addressed[0]
	}
	if name == "" {
		name = a.Inbox
	}
	if name == "" {
		return s.Record(ctx, 0, a.In) // not for any community here
	}
	for _, c := range a.Addressed {
		if c == name {
			n.ToCommunity = true
		}
	}
	if link, ok := resourceProposal(n); ok && n.InReplyTo == "" && n.ToCommunity && n.Public {
		return s.Propose(ctx, name, a.In, n, link)
	}
	return s.Submit(ctx, name, Submission{Activity: a.In, Note: n, Ancestors: a.Ancestors})
}

// receiveAnswered routes an answer: to a Follow one of our communities sent
// (Group → Group; Lemmy, for one, rejects follows by groups), else to one
// of our meetings; anything else is only recorded.
func (s *Service) receiveAnswered(ctx context.Context, a Answered) error {
	if a.Type == "Accept" || a.Type == "Reject" {
		if mine, err := s.FollowAnswered(ctx, a.In, a.ObjectIRI, a.Type == "Accept"); mine || err != nil {
			return err
		}
	}
	if _, err := s.store.MeetingByIRI(ctx, a.ObjectIRI); err == nil {
		return s.RSVP(ctx, a.In, a.ObjectIRI, answerOf(a.Type))
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return s.Record(ctx, 0, a.In)
}

var (
	anchorRE = regexp.MustCompile(`(?is)<a\s[^>]*>`)
	hrefRE   = regexp.MustCompile(`(?is)\bhref\s*=\s*"([^"]+)"`)
	classRE  = regexp.MustCompile(`(?is)\b(class\s*=\s*"[^"]*\b(mention|hashtag)\b[^"]*"|rel\s*=\s*"[^"]*\btag\b[^"]*")`)
	resTagRE = regexp.MustCompile(`(?i)(^|[^\p{L}\p{N}_])#resource\b`)
	tagRE    = regexp.MustCompile(`<[^>]*>`)
)

// resourceProposal reports whether a post proposes a resource (it carries
// #resource, as text or as a Mastodon hashtag link) and returns the first
// link in it that is not a mention or a hashtag, else its url.
func resourceProposal(n Note) (string, bool) {
	// Both ways to tag need "resource" in the content: most posts are
	// answered without the regular expressions. No letter of "ource"
	// has another form under (?i)'s case folding, as s and k have.
	if !strings.Contains(strings.ToLower(n.Content), "ource") {
		return "", false
	}
	text := anchorRE.ReplaceAllStringFunc(n.Content, func(a string) string {
		if classRE.MatchString(a) && strings.Contains(strings.ToLower(a), "/tags/resource") {
			return " #resource "
		}
		return a
	})
	if !resTagRE.MatchString(text) && !resTagRE.MatchString(tagRE.ReplaceAllString(n.Content, " ")) {
		return "", false
	}
	for _, a := range anchorRE.FindAllString(n.Content, -1) {
		if classRE.MatchString(a) {
			continue
		}
		if m := hrefRE.FindStringSubmatch(a); m != nil && isHTTPURL(m[1]) {
			return m[1], true
		}
	}
	if n.URL != "" && n.URL != n.IRI {
		return n.URL, true
	}
	return "", false
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// receiveGroupAction applies a moderator's Block (a ban) or Add or Remove
// of a moderator in a community, and records their other Removes: only
// its moderators may send one (GRP-13, Lemmy PR 2489: an admin of another
// instance is no moderator of ours), so anyone else is refused.
func (s *Service) receiveGroupAction(ctx context.Context, a GroupAction) error {
	c, err := s.store.CommunityByName(ctx, a.Community)
	if err != nil {
		return err
	}
	mod, err := s.IsModerator(ctx, c, a.In.Actor.IRI)
	if err != nil {
		return err
	}
	if !mod {
		return refused("only moderators of %s may send a %s to it", c.Name, a.Type)
	}
	by := Member(a.In.Actor.IRI)
	var apply func(tx *storage.Tx) error
	switch {
	case a.ObjectIRI == "":
	case a.Type == "Block":
		// A remote moderator's ban or its Undo: as from the console,
		// federated as the group's own Block or Undo{Block}.
		apply = func(tx *storage.Tx) error {
			if a.Undo {
				return s.unban(ctx, tx, c, by, a.ObjectIRI)
			}
			return s.ban(ctx, tx, c, by, a.ObjectIRI, a.Reason)
		}
	case a.Collection == "moderators" && !a.Undo && (a.Type == "Add" || a.Type == "Remove"):
		apply = func(tx *storage.Tx) error { return s.remoteRoleChange(ctx, tx, c, by, a.ObjectIRI, a.Type == "Add") }
	}
	if apply == nil {
		return s.Record(ctx, c.ID, a.In)
	}
	// A repeat changes nothing.
	return s.inTx(ctx, func(tx *storage.Tx) error {
		fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(a.In, c.ID))
		if err != nil || !fresh {
			return err
		}
		return apply(tx)
	})
}

// remoteRoleChange applies a remote moderator's Add (appoint) or Remove
// (dismiss) of a moderator, as Lemmy's moderators send them: the member
// becomes a moderator, or a moderator a member. The owner is not
// dismissed this way (Lemmy, too, lets no moderator remove the one above
// them): that is refused. Adding a moderator or removing a member who is
// none changes nothing.
func (s *Service) remoteRoleChange(ctx context.Context, tx *storage.Tx, c storage.Community, by Principal, actorIRI string, add bool) error {
	role, err := tx.Role(ctx, c.ID, actorIRI)
	if errors.Is(err, storage.ErrNotFound) {
		return refused("%s is not a member of %s: they must follow it first", actorIRI, c.Name)
	}
	if err != nil {
		return err
	}
	switch {
	case add && isModRole(role), !add && !isModRole(role):
		return nil
	case !add && role == storage.RoleOwner:
		return refused("the owner of %s is not dismissed from another server", c.Name)
	case add:
		return s.setRole(ctx, tx, c, by, actorIRI, storage.RoleModerator)
	}
	return s.setRole(ctx, tx, c, by, actorIRI, storage.RoleMember)
}
