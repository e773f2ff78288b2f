package community

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// Renderer builds the activities a community sends. Package federation
// implements it with go-fed's vocabulary; the rules here only decide what
// to send and to whom.
type Renderer interface {
	// AcceptFollow renders Accept{Follow} of f by community c.
	AcceptFollow(c storage.Community, f storage.Follow) (storage.OutboxActivity, error)
	// RejectFollow renders Reject{Follow} of f by community c.
	RejectFollow(c storage.Community, f storage.Follow) (storage.OutboxActivity, error)
	// AnnounceActivity renders Announce{activity} of an activity a member
	// sent (raw JSON as received) into thread th; with th.ID 0, into a
	// thread InThread gives it later.
	AnnounceActivity(c storage.Community, th storage.Thread, activity []byte) (storage.OutboxActivity, error)
	// AnnounceObject renders Announce{object IRI}, the boost microblog
	// servers show, into thread th as AnnounceActivity does.
	AnnounceObject(c storage.Community, th storage.Thread, objectIRI string) (storage.OutboxActivity, error)
	// InThread puts thread th in an Announce rendered with thread ID 0.
	InThread(a storage.OutboxActivity, c storage.Community, th storage.Thread) storage.OutboxActivity
	// UndoAnnounce renders Undo{Announce} of an Announce community c sent
	// (embedded with its own id), to withdraw a boost.
	UndoAnnounce(c storage.Community, th storage.Thread, announce storage.OutboxActivity) (storage.OutboxActivity, error)
	// WikiIRI is the id of community c's wiki page slug.
	WikiIRI(c storage.Community, slug string) string
	// WikiArticle renders Create (verb "Create") or Update of a wiki page
	// as an Article from the community, crediting contributor (an actor
	// IRI, or "").
	WikiArticle(c storage.Community, page storage.WikiPage, rev storage.WikiRevision, verb, contributor string) (storage.OutboxActivity, error)
	// Decision renders Create (verb "Create") or Update of a decision's
	// Question with its tally; a closed decision carries closed.
	Decision(c storage.Community, d storage.Decision, t storage.Tally, verb string) (storage.OutboxActivity, error)
	// ModAction renders what a community sends when a moderator acts on a
	// thread: Add or Remove of its root to the featured collection (pin,
	// unpin), Lock or Undo{Lock} (lock, unlock), Delete (remove).
	ModAction(c storage.Community, th storage.Thread, action string) (storage.OutboxActivity, error)
	// NewIRI makes a fresh IRI for an object of community c in collection
	// which ("resources", "events").
	NewIRI(c storage.Community, which string) string
	// ResourcePublished renders what announces a published resource:
	// Create of its Page or Document, and Add to the resources collection.
	ResourcePublished(c storage.Community, r storage.Resource) ([]storage.OutboxActivity, error)
	// ResourceRemoved renders Remove of a resource from the collection.
	ResourceRemoved(c storage.Community, r storage.Resource) (storage.OutboxActivity, error)
	// Meeting renders Create (verb "Create") or Update ("Update") of a
	// meeting's Event and of its RSVP poll, with the current counts.
	Meeting(c storage.Community, m storage.Meeting, counts storage.RSVPCounts, verb string) ([]storage.OutboxActivity, error)
	// RoleChange renders Add (add true) or Remove of an actor on the
	// moderators collection.
	RoleChange(c storage.Community, actorIRI string, add bool) (storage.OutboxActivity, error)
	// Block renders Block{actor, target: community} (Lemmy's community
	// ban), or its Undo.
	Block(c storage.Community, actorIRI, reason string, undo bool) (storage.OutboxActivity, error)
	// RemovePost renders the community's Delete of a post a moderator
	// removed.
	RemovePost(c storage.Community, th storage.Thread, postIRI, reason string) (storage.OutboxActivity, error)
	// FollowGroup renders a community's Follow of another community; its
	// IRI is the Follow's id.
	FollowGroup(c storage.Community, targetIRI string) (storage.OutboxActivity, error)
	// Share renders a community's Announce of an object a broker shares,
	// with the source community as origin and the broker named.
	Share(c storage.Community, objectIRI, sourceIRI, brokerIRI string) (storage.OutboxActivity, error)
	// CommunityIRI is the actor IRI of a local community.
	CommunityIRI(name string) string
	// Flag renders the community's forward of a report to its moderators.
	Flag(c storage.Community, objects []string, reason string) (storage.OutboxActivity, error)
	// UpdateGroup renders Update{Group} after the community's profile or
	// rules changed.
	UpdateGroup(c storage.Community) (storage.OutboxActivity, error)
	// SignInNote renders the instance actor's direct Create{Note} to one
	// actor, mentioning it by handle, holding a sign-in link that works
	// for ttl on the site called siteName.
	SignInNote(to storage.Actor, handle, link, siteName string, ttl time.Duration) (storage.OutboxActivity, error)
}

// Incoming is an activity that passed the inbox's signature and origin
// checks, as the community layer needs it.
type Incoming struct {
	IRI   string
	Type  string
	Actor storage.Actor // the signer, who is the activity's actor
	Raw   []byte
}

// Follow handles a Follow of a community: in join mode open the follower is
// accepted and an Accept is queued to its inbox in the same transaction;
// in mode approval (and invite) the request waits for a moderator. A
// repeated Follow keeps the state it has and, when accepted, sends Accept
// again (GRP-16: the peer may have lost the first one). It returns the state.
func (s *Service) Follow(ctx context.Context, communityName string, in Incoming, followIRI string) (string, error) {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return "", err
	}
	banned, err := s.store.IsBanned(ctx, c.ID, in.Actor.IRI)
	if err != nil {
		return "", err
	}
	var state string
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, c.ID))
		if err != nil || !fresh {
			return err // a replay changes nothing
		}
		if banned {
			// GRP-04: a banned actor's Follow is rejected, whatever the
			// join mode, and no follow is kept.
			state = "rejected"
			return s.send(ctx, tx, s.render.RejectFollow, c, storage.Follow{CommunityID: c.ID, ActorIRI: in.Actor.IRI, FollowIRI: followIRI}, in.Actor.Inbox)
		}
		want := storage.FollowPending
		if c.JoinMode == JoinOpen {
			want = storage.FollowAccepted
		}
		f, err := tx.UpsertFollow(ctx, storage.Follow{CommunityID: c.ID, ActorIRI: in.Actor.IRI, FollowIRI: followIRI, State: want, CreatedAt: s.now()})
		if err != nil {
			return err
		}
		state = f.State
		if f.State == storage.FollowAccepted {
			return s.send(ctx, tx, s.render.AcceptFollow, c, f, in.Actor.Inbox)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("follow %s by %s: %w", communityName, in.Actor.IRI, err)
	}
	return state, nil
}

// Unfollow handles Undo{Follow}: the follower (or requester) is removed.
// Undoing a follow that does not exist is not an error: peers retry.
func (s *Service) Unfollow(ctx context.Context, communityName string, in Incoming) error {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx *storage.Tx) error {
		fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, c.ID))
		if err != nil || !fresh {
			return err
		}
		_, err = tx.DeleteFollow(ctx, c.ID, in.Actor.IRI)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		return err
	})
}

// MaxRecordedBody is the largest body kept of an activity we do not act on
// (an unknown type, or a known one about nothing here).
const MaxRecordedBody = 4 << 10

// Record stores an accepted activity that needs no other handling yet, by
// id, type and actor, so that it is seen once and can be looked into
// later. Its body is kept only up to MaxRecordedBody: otherwise a peer
// could store megabytes with every activity of a type we ignore (CON-06).
func (s *Service) Record(ctx context.Context, communityID int64, in Incoming) error {
	return s.store.InTx(ctx, func(tx *storage.Tx) error {
		return s.record(ctx, tx, communityID, in)
	})
}

// record is Record in a transaction under way.
func (s *Service) record(ctx context.Context, tx *storage.Tx, communityID int64, in Incoming) error {
	if len(in.Raw) > MaxRecordedBody {
		in.Raw = nil
	}
	_, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, communityID))
	return err
}

// PendingFollows lists the follow requests waiting for approval.
func (s *Service) PendingFollows(ctx context.Context, communityName string) ([]storage.Follow, error) {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return nil, err
	}
	return s.store.Follows(ctx, c.ID, storage.FollowPending, 0, 10_000)
}

// ApproveFollow accepts a pending follow request and queues the Accept.
func (s *Service) ApproveFollow(ctx context.Context, p Principal, communityName, actorIRI string) error {
	return s.decideFollow(ctx, p, communityName, actorIRI, true)
}

// RejectFollow refuses a pending follow request (or removes a follower)
// and queues the Reject.
func (s *Service) RejectFollow(ctx context.Context, p Principal, communityName, actorIRI string) error {
	return s.decideFollow(ctx, p, communityName, actorIRI, false)
}

// decideFollow approves or rejects as principal p, a moderator (console
// steward, operator or remote moderator), and writes the audit row in the
// same transaction: the console and the command line share the check and
// the record.
func (s *Service) decideFollow(ctx context.Context, p Principal, communityName, actorIRI string, accept bool) error {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	actor, err := s.store.ActorByIRI(ctx, actorIRI)
	if err != nil {
		return fmt.Errorf("actor %s: %w", actorIRI, err)
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		ok, err := s.may(ctx, tx, c, p, CanModerate)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: only moderators decide follow requests", ErrForbidden)
		}
		f, err := tx.Follow(ctx, c.ID, actorIRI)
		if err != nil {
			return fmt.Errorf("no follow request from %s in %s: %w", actorIRI, communityName, err)
		}
		if accept {
			if f.State == storage.FollowAccepted {
				return nil
			}
			if err := tx.SetFollowState(ctx, c.ID, actorIRI, storage.FollowAccepted, s.now()); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, c, p, "follow approve", actorIRI, ""); err != nil {
				return err
			}
			return s.send(ctx, tx, s.render.AcceptFollow, c, f, actor.Inbox)
		}
		if err := s.audit(ctx, tx, c, p, "follow reject", actorIRI, ""); err != nil {
			return err
		}
		if _, err := tx.DeleteFollow(ctx, c.ID, actorIRI); err != nil {
			return err
		}
		return s.send(ctx, tx, s.render.RejectFollow, c, f, actor.Inbox)
	})
}

// send renders an activity and queues it for one inbox inside tx.
func (s *Service) send(ctx context.Context, tx *storage.Tx, render func(storage.Community, storage.Follow) (storage.OutboxActivity, error), c storage.Community, f storage.Follow, inbox string) error {
	a, err := render(c, f)
	if err != nil {
		return err
	}
	return s.deliver(ctx, tx, c, a, to(inbox))
}

func (s *Service) inboxRow(in Incoming, communityID int64) storage.InboxActivity {
	return storage.InboxActivity{IRI: in.IRI, Type: in.Type, ActorIRI: in.Actor.IRI, CommunityID: communityID, Raw: in.Raw, ReceivedAt: s.now()}
}

// Followers returns one page of the accepted followers of a community and
// their total.
func (s *Service) Followers(ctx context.Context, c storage.Community, offset, limit int) (int, []string, error) {
	total, err := s.store.CountFollows(ctx, c.ID, storage.FollowAccepted)
	if err != nil || limit == 0 {
		return total, nil, err
	}
	fs, err := s.store.Follows(ctx, c.ID, storage.FollowAccepted, offset, limit)
	if err != nil {
		return 0, nil, err
	}
	iris := make([]string, len(fs))
	for i, f := range fs {
		iris[i] = f.ActorIRI
	}
	return total, iris, nil
}

// ResolveActor turns an ACTOR argument (an actor IRI or an @name@host
// handle) into the IRI of an actor we know.
func (s *Service) ResolveActor(ctx context.Context, arg string) (string, error) {
	if strings.HasPrefix(arg, "https://") || strings.HasPrefix(arg, "http://") {
		a, err := s.store.ActorByIRI(ctx, arg)
		if err != nil {
			return "", fmt.Errorf("actor %s: %w", arg, err)
		}
		return a.IRI, nil
	}
	user, host, ok := strings.Cut(strings.TrimPrefix(arg, "@"), "@")
	if !ok || user == "" || host == "" {
		return "", &InvalidError{Fields: map[string]string{"actor": "want an actor URL or @name@host"}}
	}
	a, err := s.store.ActorByHandle(ctx, user, host)
	if err != nil {
		return "", fmt.Errorf("actor %s: %w", arg, err)
	}
	return a.IRI, nil
}

// SentActivity returns an activity a community sent, by its id, so that
// peers can dereference it.
// A withdrawn activity (an announce of a post since deleted or removed) is
// ErrGone.
func (s *Service) SentActivity(ctx context.Context, iri string) (storage.OutboxActivity, error) {
	a, err := s.store.OutboxActivityByIRI(ctx, iri)
	if err == nil && a.Withdrawn {
		return storage.OutboxActivity{}, ErrGone
	}
	return a, err
}
