package community

import (
	"context"
	"errors"
	"fmt"

	"github.com/coppice-dev/coppice/storage"
)

// FollowCommunity makes community name follow another community (a Group
// actor, local or remote, already fetched): the Follow is queued to its
// inbox and the link waits for Accept or Reject. Some peers, such as
// Lemmy, refuse follows by groups; the Reject is recorded.
func (s *Service) FollowCommunity(ctx context.Context, name string, target storage.Actor) (storage.Related, error) {
	c, err := s.store.CommunityByName(ctx, name)
	if err != nil {
		return storage.Related{}, err
	}
	if target.Type != "Group" {
		return storage.Related{}, refused("%s is a %s, not a community", target.IRI, target.Type)
	}
	var out storage.Related
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		a, err := s.render.FollowGroup(c, target.IRI)
		if err != nil {
			return err
		}
		out = storage.Related{CommunityID: c.ID, RemoteIRI: target.IRI, FollowIRI: a.IRI, State: "pending", CreatedAt: s.now()}
		if err := tx.UpsertRelated(ctx, out); err != nil {
			return err
		}
		return s.deliver(ctx, tx, c, a, to(target.Inbox))
	})
	return out, err
}

// FollowAnswered records the Accept or Reject of a Follow one of our
// communities sent. It reports false when followIRI is not ours.
func (s *Service) FollowAnswered(ctx context.Context, in Incoming, followIRI string, accepted bool) (bool, error) {
	r, err := s.store.RelatedByFollow(ctx, followIRI)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if r.RemoteIRI != in.Actor.IRI {
		return true, refused("only %s may answer this Follow", r.RemoteIRI)
	}
	state := "rejected"
	if accepted {
		state = "accepted"
	}
	return true, s.store.InTx(ctx, func(tx *storage.Tx) error {
		fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, r.CommunityID))
		if err != nil || !fresh {
			return err
		}
		return tx.SetRelatedState(ctx, r.ID, state, s.now())
	})
}

// RelatedCommunities lists the communities a community follows.
func (s *Service) RelatedCommunities(ctx context.Context, c storage.Community) ([]storage.Related, error) {
	return s.store.RelatedOf(ctx, c.ID)
}

// Share has community target announce an object from elsewhere (a thread
// or resource of another community, local or remote) on behalf of a broker
// or moderator, with its provenance: the source community and the broker.
func (s *Service) Share(ctx context.Context, target, objectIRI, sourceIRI, brokerIRI string) (storage.Share, error) {
	c, err := s.store.CommunityByName(ctx, target)
	if err != nil {
		return storage.Share{}, err
	}
	if role, err := s.store.Role(ctx, c.ID, brokerIRI); err == nil {
		if role != storage.RoleBroker && !isModRole(role) {
			return storage.Share{}, refused("%s is a %s of %s, not a broker or moderator", brokerIRI, role, target)
		}
	} else if !errors.Is(err, storage.ErrNotFound) {
		return storage.Share{}, err
	} else if brokerIRI != "admin" && !isLocalName(brokerIRI) {
		return storage.Share{}, refused("%s is not a broker or moderator of %s", brokerIRI, target)
	}
	if sourceIRI == "" {
		if name, err := s.PostCommunity(ctx, objectIRI); err == nil {
			sourceIRI = s.render.CommunityIRI(name)
		} else if _, src, err := s.Resource(ctx, objectIRI); err == nil {
			sourceIRI = s.render.CommunityIRI(src.Name)
		}
	}
	var sh storage.Share
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		a, err := s.render.Share(c, objectIRI, sourceIRI, brokerIRI)
		if err != nil {
			return err
		}
		sh = storage.Share{CommunityID: c.ID, ObjectIRI: objectIRI, SourceIRI: sourceIRI, BrokerIRI: brokerIRI, ActivityIRI: a.IRI, CreatedAt: s.now()}
		if err := tx.CreateShare(ctx, sh); err != nil {
			if errors.Is(err, storage.ErrConflict) {
				return refused("%s was shared into %s already", objectIRI, target)
			}
			return err
		}
		if err := tx.LogModeration(ctx, c.ID, storage.LogEntry{By: brokerIRI, Action: "share", Target: objectIRI, Reason: fmt.Sprintf("from %s", sourceIRI), At: s.now()}); err != nil {
			return err
		}
		a.Listed = true
		return s.deliver(ctx, tx, c, a, toFollowers)
	})
	return sh, err
}

// isLocalName reports whether by names a console account rather than an
// actor IRI.
func isLocalName(by string) bool {
	for _, r := range by {
		if r == ':' || r == '/' {
			return false
		}
	}
	return true
}

// Shares lists what brokers shared into a community.
func (s *Service) Shares(ctx context.Context, c storage.Community) ([]storage.Share, error) {
	return s.store.Shares(ctx, c.ID, 50)
}
