package community

import (
	"context"

	"github.com/coppice-dev/coppice/storage"
)

// Audience is who an activity goes to: the community's followers, and/or
// given inboxes (a follower's, a banned actor's, a moderator's instance).
// Delivery is collapsed on shared inboxes either way.
type Audience struct {
	Followers bool
	// Family narrows the followers to the hosts of one family of servers
	// (and those whose software is not known); FamilyUnknown: all.
	Family  storage.Family
	Inboxes []string
}

// toFollowers is the audience of an activity for every follower.
var toFollowers = Audience{Followers: true}

// toFamily is the audience of the followers on hosts of one family (and
// on hosts whose software is not known).
func toFamily(f storage.Family) Audience { return Audience{Followers: true, Family: f} }

// to is the audience of one or more inboxes.
func to(inboxes ...string) Audience { return Audience{Inboxes: inboxes} }

// deliver is the one way out of the community layer: it stores activity a
// of community c (0: the instance actor) and queues it for its audience,
// in tx, the transaction that made the change it tells of. The delivery
// worker reads the queue; nothing leaves before tx commits. For the
// followers, tx queues one fan-out, which the worker expands into a
// delivery per inbox in a transaction of its own (storage.QueueFanOut).
func (s *Service) deliver(ctx context.Context, tx *storage.Tx, c storage.Community, a storage.OutboxActivity, aud Audience) error {
	a.CommunityID, a.CreatedAt = c.ID, s.now()
	id, err := tx.CreateOutboxActivity(ctx, a)
	if err != nil {
		return err
	}
	if aud.Followers {
		if _, err := tx.QueueFanOut(ctx, id, c.ID, aud.Family, s.now()); err != nil {
			return err
		}
	}
	for _, inbox := range aud.Inboxes {
		if err := tx.EnqueueDelivery(ctx, id, inbox, s.now()); err != nil {
			return err
		}
	}
	return nil
}
