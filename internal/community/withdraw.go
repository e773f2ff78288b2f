package community

import (
	"context"

	"github.com/coppice-dev/coppice/storage"
)

// withdraw takes back what community c announced about a post that is
// gone (objectIRI), or about every post of a removed thread (threadID not
// 0), in tx.
//
// Group-aware servers (Lemmy, PieFed, Mbin, NodeBB, Coppice) learn of a
// deletion from Announce{Delete} or the community's Delete, which the
// caller sends. Mastodon, GoToSocial, snac and the other microblog servers
// ignore an Announce of an activity and never hear from the author's
// server (they do not follow the author), so the boost they show stays
// unless the community undoes it: each Announce{object} is undone with
// Undo{Announce} of the same id, which they apply by removing the boost
// from home timelines. The Undo goes to the hosts that got the boost:
// microblog servers and those whose software we do not know (issue 17).
//
// The withdrawn announces leave the outbox and answer 410.
func (s *Service) withdraw(ctx context.Context, tx *storage.Tx, c storage.Community, th storage.Thread, objectIRI string, threadID int64) error {
	gone, err := tx.WithdrawAnnounces(ctx, c.ID, objectIRI, threadID, s.now())
	if err != nil {
		return err
	}
	for _, a := range gone {
		if !a.Boost {
			continue
		}
		undo, err := s.render.UndoAnnounce(c, th, a)
		if err != nil {
			return err
		}
		if err := s.deliver(ctx, tx, c, undo, toFamily(storage.FamilyMicroblog)); err != nil {
			return err
		}
	}
	return nil
}
