package community

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// MaxTitleRunes bounds a thread title derived from a post.
const MaxTitleRunes = 120

// RefusedError is a post or action the community's rules refuse, with the
// reason the peer gets (403).
type RefusedError struct {
	Reason string
}

func (e *RefusedError) Error() string { return e.Reason }

func refused(format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...)}
}

// Note is a remote post (Note, Page, Article or Question) as federation
// read it. Content and Summary are untrusted HTML; Submit sanitizes them.
type Note struct {
	IRI       string
	Type      string
	AuthorIRI string
	InReplyTo string
	Name      string
	Content   string
	Summary   string
	URL       string
	Published time.Time
	// Public: addressed to the public collection. The community never
	// widens the audience of a followers-only or direct post (GRP-14).
	Public bool
	// ToCommunity: the community is in to, cc or audience, or mentioned.
	ToCommunity bool
	// Raw is the post's JSON when it was fetched by IRI, nil when it came
	// embedded in the activity (whose raw JSON holds it).
	Raw []byte
}

// Submission is a Create of a post sent to a community.
type Submission struct {
	Activity Incoming
	Note     Note
	// Ancestors are the parents of Note that federation fetched because we
	// did not have them, nearest first.
	Ancestors []Note
}

// Submit applies the community's rules to a post: it must be public, its
// author allowed by the posting policy, addressed to the community or a
// reply into one of its threads, and its thread not locked. An accepted
// post is stored in its thread and announced to every follower in the same
// transaction. A refused post is stored nowhere and announced to no one.
func (s *Service) Submit(ctx context.Context, communityName string, sub Submission) error {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	if !sub.Note.Public {
		return refused("only public posts are shared with a community")
	}
	if err := s.mayPost(ctx, c, sub.Activity.Actor.IRI); err == errHeld {
		return s.hold(ctx, c, sub)
	} else if err != nil {
		return err
	}
	return s.accept(ctx, c, sub, nil)
}

// accept stores a post the rules let in, in its thread, and announces it
// to every follower, in one transaction; before, when set, runs first in
// that transaction (a moderator's approval takes the post from the queue
// there).
func (s *Service) accept(ctx context.Context, c storage.Community, sub Submission, before func(tx *storage.Tx) error) error {
	n := sub.Note
	// Instance policy for the author's host: silenced hosts' posts are kept
	// in the thread but not announced; reject_media drops their images.
	policy, err := s.store.DomainPolicy(ctx, sub.Activity.Actor.Host)
	if err != nil {
		return err
	}
	if policy == storage.PolicyRejectMedia {
		n.Content = imgRE.ReplaceAllString(s.sanitize.HTML(n.Content), "")
	}
	// Sanitizing and rendering need no database: done here, they do not
	// hold the one writer (issue 13). The thread is known only inside.
	row := s.postRow(c, storage.Thread{}, n)
	row.ActivityIRI = sub.Activity.IRI
	text := s.sanitize.Text(row.Content, 0)
	title := s.sanitize.Text(n.Name, MaxTitleRunes) // of a new thread
	if title == "" {
		title = s.sanitize.FirstLine(n.Content, MaxTitleRunes, c.Name)
	}
	if title == "" {
		title = "Untitled discussion"
	}
	var an announcement
	if policy != storage.PolicySilence {
		if an, err = s.renderAnnouncement(c, s.editedActivity(sub.Activity.Raw, standing{policy: policy}), n.IRI, true); err != nil {
			return err
		}
		an.activity.Embeds = sub.Activity.IRI
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		if before != nil {
			if err := before(tx); err != nil {
				return err
			}
		}
		if _, err := tx.PostByIRI(ctx, n.IRI); err == nil {
			// ORI-08: an object we have already is never re-announced or
			// changed by a Create, whoever sends it.
			_, err := tx.RecordInboxActivity(ctx, s.inboxRow(sub.Activity, c.ID))
			return err
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		th, chain, err := s.findThread(ctx, tx, c, n, sub.Ancestors)
		if err != nil {
			return err
		}
		if th.ID == 0 && !n.ToCommunity {
			return refused("the post is not addressed to the community")
		}
		if th.Locked {
			return refused("the thread is locked")
		}
		if th.Removed {
			return refused("the thread was removed")
		}
		fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(sub.Activity, c.ID))
		if err != nil || !fresh {
			return err
		}
		created := th.ID == 0
		if created {
			th, err = tx.CreateThread(ctx, storage.Thread{CommunityID: c.ID, RootIRI: n.IRI, Title: title, AuthorIRI: n.AuthorIRI, CreatedAt: s.now()})
			if err != nil {
				return err
			}
		}
		// Ancestors we fetched to place the reply join the thread, oldest
		// first; they are context, not announced.
		for i := len(chain) - 1; i >= 0; i-- {
			if _, err := tx.CreatePost(ctx, s.postRow(c, th, chain[i])); err != nil && !errors.Is(err, storage.ErrConflict) {
				return err
			}
			if err := tx.TouchThread(ctx, th.ID, 1, s.now()); err != nil {
				return err
			}
		}
		row.ThreadID = th.ID
		post, err := tx.CreatePost(ctx, row)
		if err != nil {
			return err
		}
		kind := storage.ContribReply
		if th.RootIRI == n.IRI {
			kind = storage.ContribThread
		}
		if err := tx.RecordContribution(ctx, c.ID, n.AuthorIRI, kind, n.IRI, s.now()); err != nil {
			return err
		}
		if err := tx.IndexDocument(ctx, storage.SearchPost, post.ID, c.ID, th.Title, text); err != nil {
			return err
		}
		delta := 0
		if th.RootIRI != n.IRI {
			delta = 1
		}
		// A thread made just now (its root is this post) is as fresh as it
		// gets: touching it would only write its row and index entry again.
		if !created {
			if err := tx.TouchThread(ctx, th.ID, delta, s.now()); err != nil {
				return err
			}
		}
		if policy == storage.PolicySilence {
			return nil
		}
		return s.queueAnnouncement(ctx, tx, c, th, an, delta == 0 || c.BoostReplies)
	})
}

// imgRE matches the img elements of sanitized HTML, which has no '>'
// inside attribute values left unescaped.
var imgRE = regexp.MustCompile(`(?i)<img\b[^>]*>`)

// errHeld is mayPost's answer for a post that waits for a moderator
// rather than appears: posting 'moderators' and an author who is a
// member but no moderator (GRP-06). Submit holds the post; any other
// caller refuses with it.
var errHeld = &RefusedError{Reason: "only moderators may post in this community"}

// mayPost applies the posting policy: nil, errHeld, or a refusal.
func (s *Service) mayPost(ctx context.Context, c storage.Community, actorIRI string) error {
	// One check for bans, used by every way of posting (GRP-04, Lemmy
	// #1287: bans enforced on one path only leak through the others).
	banned, err := s.store.IsBanned(ctx, c.ID, actorIRI)
	if err != nil {
		return err
	}
	if banned {
		return refused("you are banned from this community")
	}
	switch c.PostingPolicy {
	case PostAnyone:
		return nil
	case PostModerators:
		if ok, err := s.IsModerator(ctx, c, actorIRI); err != nil || ok {
			return err
		}
		if !c.ArchivedAt.IsZero() {
			// Archiving sets posting 'moderators' (SetCommunityArchived);
			// an archive keeps no queue.
			return refused("the community is archived: only its moderators post")
		}
		// Members propose, moderators decide; strangers cannot fill the
		// queue.
		if err := s.mustBeMember(ctx, c, actorIRI); err != nil {
			return err
		}
		return errHeld
	default:
		return s.mustBeMember(ctx, c, actorIRI)
	}
}

// mustBeMember refuses an actor who is not an accepted follower of c.
func (s *Service) mustBeMember(ctx context.Context, c storage.Community, actorIRI string) error {
	f, err := s.store.Follow(ctx, c.ID, actorIRI)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && f.State != storage.FollowAccepted) {
		return refused("only members may post in this community: follow it first")
	}
	return err
}

// findThread finds the thread a post belongs to: the thread of its parent
// or of the nearest ancestor we have. It returns the ancestors to store
// with it (those nearer than the one found). A zero thread means a new one.
func (s *Service) findThread(ctx context.Context, tx *storage.Tx, c storage.Community, n Note, ancestors []Note) (storage.Thread, []Note, error) {
	if n.InReplyTo == "" {
		return storage.Thread{}, nil, nil
	}
	parents := append([]string{n.InReplyTo}, nil...)
	for _, a := range ancestors {
		if a.InReplyTo != "" {
			parents = append(parents, a.InReplyTo)
		}
	}
	for i, iri := range parents {
		p, err := tx.PostByIRI(ctx, iri)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return storage.Thread{}, nil, err
		}
		if p.CommunityID != c.ID {
			return storage.Thread{}, nil, nil // a thread of another community
		}
		th, err := tx.ThreadByID(ctx, p.ThreadID)
		if err != nil {
			return storage.Thread{}, nil, err
		}
		if i > len(ancestors) {
			i = len(ancestors)
		}
		return th, ancestors[:i], nil
	}
	return storage.Thread{}, nil, nil
}

func (s *Service) postRow(c storage.Community, th storage.Thread, n Note) storage.Post {
	published := n.Published
	if published.IsZero() || published.After(s.now()) {
		published = s.now()
	}
	return storage.Post{
		IRI: n.IRI, ThreadID: th.ID, CommunityID: c.ID, Type: n.Type, AuthorIRI: n.AuthorIRI, InReplyTo: n.InReplyTo,
		Name:    s.sanitize.Text(n.Name, MaxTitle),
		Content: s.sanitize.HTML(n.Content),
		Summary: s.sanitize.Text(n.Summary, MaxSummary),
		URL:     n.URL, Published: published, Raw: n.Raw,
	}
}

// announce queues the Announces of an accepted activity to every follower.
// Group-aware peers (Lemmy, PieFed, Mbin, NodeBB, other Coppice instances)
// read Announce{activity}; microblog servers (Mastodon, GoToSocial, Akkoma,
// Misskey) only show Announce{object} as a boost and ignore the other, so
// each host gets the shape its software shows, and a host whose software
// we do not know gets both. objectIRI is the post the activity is about
// ("" for a Delete, which must stay served); boostObject false leaves out
// the boost, for communities that boost only thread starters to microblog
// timelines. activity is in's JSON as announced; the Announce refers to
// in's row of the raw log when it embeds it unchanged (storage/embed.go).
func (s *Service) announce(ctx context.Context, tx *storage.Tx, c storage.Community, th storage.Thread, in Incoming, activity []byte, objectIRI string, boostObject bool) error {
	an, err := s.renderAnnouncement(c, activity, objectIRI, boostObject)
	if err != nil {
		return err
	}
	an.activity.Embeds = in.IRI
	return s.queueAnnouncement(ctx, tx, c, th, an, boostObject)
}

// announcement is what announce sends, rendered before the thread is known
// so it can be rendered outside the write transaction.
type announcement struct {
	activity storage.OutboxActivity
	boost    storage.OutboxActivity // zero when there is none to send
}

// renderAnnouncement renders the Announces of activity, and the boost of
// objectIRI when mayBoost and there is an object, with no thread yet.
func (s *Service) renderAnnouncement(c storage.Community, activity []byte, objectIRI string, mayBoost bool) (announcement, error) {
	var an announcement
	var err error
	if an.activity, err = s.render.AnnounceActivity(c, storage.Thread{}, activity); err != nil {
		return announcement{}, err
	}
	an.activity.Listed, an.activity.ObjectIRI = true, objectIRI
	if !mayBoost || objectIRI == "" {
		return an, nil
	}
	if an.boost, err = s.render.AnnounceObject(c, storage.Thread{}, objectIRI); err != nil {
		return announcement{}, err
	}
	an.boost.ObjectIRI, an.boost.Boost = objectIRI, true
	return an, nil
}

// queueAnnouncement places an's Announces in thread th and queues them:
// Announce{activity} to the group-aware and unknown hosts, the boost (when
// boostObject and an has one) to the microblog and unknown hosts.
func (s *Service) queueAnnouncement(ctx context.Context, tx *storage.Tx, c storage.Community, th storage.Thread, an announcement, boostObject bool) error {
	if err := s.deliver(ctx, tx, c, s.render.InThread(an.activity, c, th), toFamily(storage.FamilyGroup)); err != nil {
		return err
	}
	if !boostObject || an.boost.IRI == "" {
		return nil
	}
	return s.deliver(ctx, tx, c, s.render.InThread(an.boost, c, th), toFamily(storage.FamilyMicroblog))
}
