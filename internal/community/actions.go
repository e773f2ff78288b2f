package community

import (
	"context"
	"errors"
	"fmt"

	"github.com/coppice-dev/coppice/storage"
)

// ownPost returns the post at iri in community c when actorIRI wrote it.
// Someone else's post is ErrForbidden (GRP-08, GRP-10): moderators act
// through ModerateThread.
func (s *Service) ownPost(ctx context.Context, tx *storage.Tx, c storage.Community, iri, actorIRI string) (storage.Post, error) {
	p, err := tx.PostByIRI(ctx, iri)
	if err != nil {
		return storage.Post{}, err
	}
	if p.CommunityID != c.ID {
		return storage.Post{}, ErrNotFound
	}
	if p.AuthorIRI != actorIRI {
		return storage.Post{}, refused("only the author may change or delete a post")
	}
	return p, nil
}

// Edit applies an author's Update of a post and announces it to group-aware
// followers. An Update of a post we never had is ignored (GRP-09).
func (s *Service) Edit(ctx context.Context, communityName string, in Incoming, n Note) error {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		p, err := s.ownPost(ctx, tx, c, n.IRI, in.Actor.IRI)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil || !p.DeletedAt.IsZero() {
			return err
		}
		// An edit passes the rules a new post passes: a banned author
		// cannot change what is shown, a removed thread stays removed, and
		// the author's host policy holds (issue 11, bypass 1).
		st, err := s.standingOf(ctx, tx, c, in)
		if err != nil {
			return err
		}
		if st.banned {
			return refused("you are banned from this community")
		}
		th, err := tx.ThreadByID(ctx, p.ThreadID)
		if err != nil {
			return err
		}
		if th.Removed {
			return refused("the thread was removed")
		}
		if st.policy == storage.PolicyRejectMedia {
			n.Content = imgRE.ReplaceAllString(s.sanitize.HTML(n.Content), "")
		}
		fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, c.ID))
		if err != nil || !fresh {
			return err
		}
		row := s.postRow(c, storage.Thread{ID: p.ThreadID}, n)
		p.Name, p.Content, p.Summary, p.Raw, p.Updated = row.Name, row.Content, row.Summary, row.Raw, s.now()
		p.ActivityIRI = in.IRI
		if err := tx.UpdatePost(ctx, p); err != nil {
			return err
		}
		if err := tx.IndexDocument(ctx, storage.SearchPost, p.ID, c.ID, th.Title, s.sanitize.Text(p.Content, 0)); err != nil {
			return err
		}
		if st.policy == storage.PolicySilence {
			return nil // kept, not announced, as a new post from there
		}
		return s.announce(ctx, tx, c, th, in, s.editedActivity(in.Raw, st), p.IRI, false)
	})
}

// Delete applies an author's Delete of a post: the post becomes a tombstone
// in its thread and the Delete is announced. A Delete of a post we do not
// have is ignored.
func (s *Service) Delete(ctx context.Context, communityName string, in Incoming, objectIRI string) error {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	mod, err := s.IsModerator(ctx, c, in.Actor.IRI)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		p, err := s.ownPost(ctx, tx, c, objectIRI, in.Actor.IRI)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		var ref *RefusedError
		if errors.As(err, &ref) && mod {
			// A moderator's Delete of someone else's post is a removal
			// (Lemmy sends mod removals so); only moderators of this
			// community may (GRP-13, Lemmy PR 2489).
			fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, c.ID))
			if err != nil || !fresh {
				return err
			}
			p, err := tx.PostByIRI(ctx, objectIRI)
			if err != nil {
				return err
			}
			return s.removePost(ctx, tx, c, p, in.Actor.IRI, "")
		}
		if err != nil {
			return err
		}
		fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, c.ID))
		if err != nil || !fresh {
			return err
		}
		live, err := tx.DeletePost(ctx, p.ID, s.now())
		if err != nil || !live {
			return err
		}
		if err := tx.UnindexDocument(ctx, storage.SearchPost, p.ID); err != nil {
			return err
		}
		th, err := tx.ThreadByID(ctx, p.ThreadID)
		if err != nil {
			return err
		}
		if err := s.withdraw(ctx, tx, c, th, p.IRI, 0); err != nil {
			return err
		}
		return s.announce(ctx, tx, c, th, in, in.Raw, "", false)
	})
}

// Vote records a Like (kind "like") or Lemmy's Dislike ("dislike") of a
// post: one per actor, the last one counts. Votes on unknown posts are
// ignored.
func (s *Service) Vote(ctx context.Context, communityName string, in Incoming, objectIRI, kind string) error {
	return s.vote(ctx, communityName, in, objectIRI, kind)
}

// Unvote applies Undo{Like} or Undo{Dislike}.
func (s *Service) Unvote(ctx context.Context, communityName string, in Incoming, objectIRI string) error {
	return s.vote(ctx, communityName, in, objectIRI, "")
}

func (s *Service) vote(ctx context.Context, communityName string, in Incoming, objectIRI, kind string) error {
	p, err := s.store.PostByIRI(ctx, objectIRI)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if communityName != "" {
		c, err := s.store.CommunityByName(ctx, communityName)
		if err != nil {
			return err
		}
		if c.ID != p.CommunityID {
			return nil
		}
	}
	return s.store.InTx(ctx, func(tx *storage.Tx) error {
		banned, err := tx.IsBanned(ctx, p.CommunityID, in.Actor.IRI)
		if err != nil {
			return err
		}
		if banned && kind != "" {
			// A banned actor's votes do not count (issue 11, bypass 2);
			// taking a vote back is always allowed.
			return refused("you are banned from this community")
		}
		fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(in, p.CommunityID))
		if err != nil || !fresh {
			return err
		}
		ref := in.Actor.IRI + " " + p.IRI
		if kind == "" {
			if err := tx.RemoveContribution(ctx, p.CommunityID, p.AuthorIRI, storage.ContribLikeReceived, ref); err != nil {
				return err
			}
			return tx.RemoveVote(ctx, p.ID, in.Actor.IRI)
		}
		if kind == "like" {
			if err := tx.RecordContribution(ctx, p.CommunityID, p.AuthorIRI, storage.ContribLikeReceived, ref, s.now()); err != nil {
				return err
			}
		} else if err := tx.RemoveContribution(ctx, p.CommunityID, p.AuthorIRI, storage.ContribLikeReceived, ref); err != nil {
			return err
		}
		return tx.SetVote(ctx, p.ID, in.Actor.IRI, kind, in.IRI, s.now())
	})
}

// Thread moderation actions.
const (
	ActionPin    = "pin"
	ActionUnpin  = "unpin"
	ActionLock   = "lock"
	ActionUnlock = "unlock"
	ActionRemove = "remove"
)

// ModerateThread pins, unpins, locks, unlocks or removes the thread whose
// root post (or any post) has the IRI postIRI, and announces it to the
// followers: Add/Remove on the featured collection, Lemmy's Lock and
// Undo{Lock}, or Delete.
func (s *Service) ModerateThread(ctx context.Context, postIRI, action string) (storage.Thread, error) {
	return s.moderateThread(ctx, postIRI, action, "admin", nil)
}

// ModerateThreadAs applies a remote moderator's Lock or Undo{Lock} (Lemmy)
// of a thread. Only moderators of the thread's community may (GRP-13).
func (s *Service) ModerateThreadAs(ctx context.Context, in Incoming, postIRI, action string) error {
	p, err := s.store.PostByIRI(ctx, postIRI)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c, err := s.communityByID(ctx, p.CommunityID)
	if err != nil {
		return err
	}
	mod, err := s.IsModerator(ctx, c, in.Actor.IRI)
	if err != nil {
		return err
	}
	if !mod {
		return refused("only moderators of %s may %s its threads", c.Name, action)
	}
	_, err = s.moderateThread(ctx, postIRI, action, in.Actor.IRI, &in)
	return err
}

func (s *Service) moderateThread(ctx context.Context, postIRI, action, by string, in *Incoming) (storage.Thread, error) {
	p, err := s.store.PostByIRI(ctx, postIRI)
	if err != nil {
		return storage.Thread{}, fmt.Errorf("post %s: %w", postIRI, err)
	}
	c, err := s.communityByID(ctx, p.CommunityID)
	if err != nil {
		return storage.Thread{}, err
	}
	var th storage.Thread
	err = s.inTx(ctx, func(tx *storage.Tx) error {
		if in != nil {
			fresh, err := tx.RecordInboxActivity(ctx, s.inboxRow(*in, c.ID))
			if err != nil || !fresh {
				return err
			}
		}
		th, err = tx.ThreadByID(ctx, p.ThreadID)
		if err != nil {
			return err
		}
		f := storage.ThreadFlags{Pinned: th.Pinned, Locked: th.Locked, Removed: th.Removed}
		switch action {
		case ActionPin:
			f.Pinned = true
		case ActionUnpin:
			f.Pinned = false
		case ActionLock:
			f.Locked = true
		case ActionUnlock:
			f.Locked = false
		case ActionRemove:
			f.Removed, f.Pinned = true, false
		default:
			return &InvalidError{Fields: map[string]string{"action": "want pin, unpin, lock, unlock or remove"}}
		}
		if f == (storage.ThreadFlags{Pinned: th.Pinned, Locked: th.Locked, Removed: th.Removed}) {
			return nil // nothing changes, nothing to tell
		}
		if err := tx.SetThreadFlags(ctx, th.ID, f); err != nil {
			return err
		}
		if err := tx.LogModeration(ctx, c.ID, storage.LogEntry{By: by, Action: action + " thread", Target: th.RootIRI, At: s.now()}); err != nil {
			return err
		}
		th.Pinned, th.Locked, th.Removed = f.Pinned, f.Locked, f.Removed
		if action == ActionRemove {
			if err := s.withdraw(ctx, tx, c, th, "", th.ID); err != nil {
				return err
			}
		}
		a, err := s.render.ModAction(c, th, action)
		if err != nil {
			return err
		}
		a.Listed = true
		return s.deliver(ctx, tx, c, a, toFollowers)
	})
	return th, err
}

func (s *Service) communityByID(ctx context.Context, id int64) (storage.Community, error) {
	cs, err := s.store.Communities(ctx)
	if err != nil {
		return storage.Community{}, err
	}
	for _, c := range cs {
		if c.ID == id {
			return c, nil
		}
	}
	return storage.Community{}, ErrNotFound
}

// ThreadView is a thread with its posts, for pages and collections.
type ThreadView struct {
	Community storage.Community
	Thread    storage.Thread
	Posts     []storage.Post
	Authors   map[string]storage.Actor // the cached actors of the authors, by IRI
}

// Thread returns a thread of a community with its posts (at most 500).
func (s *Service) Thread(ctx context.Context, communityName string, id int64) (ThreadView, error) {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return ThreadView{}, err
	}
	th, err := s.store.ThreadByID(ctx, id)
	if err != nil {
		return ThreadView{}, err
	}
	if th.CommunityID != c.ID {
		return ThreadView{}, ErrNotFound
	}
	posts, err := s.store.ThreadPosts(ctx, th.ID, 0, 500)
	if err != nil {
		return ThreadView{}, err
	}
	var authors []string
	for _, p := range posts {
		authors = append(authors, p.AuthorIRI)
	}
	actors, err := s.store.ActorsByIRI(ctx, authors)
	if err != nil {
		return ThreadView{}, err
	}
	return ThreadView{Community: c, Thread: th, Posts: posts, Authors: actors}, nil
}

// Threads lists a community's threads, pinned first, then most recently
// active, with their total.
func (s *Service) Threads(ctx context.Context, c storage.Community, offset, limit int) (int, []storage.Thread, error) {
	total, err := s.store.CountThreads(ctx, c.ID)
	if err != nil || limit == 0 {
		return total, nil, err
	}
	ts, err := s.store.Threads(ctx, c.ID, offset, limit)
	return total, ts, err
}

// PinnedThreads lists a community's pinned threads.
func (s *Service) PinnedThreads(ctx context.Context, c storage.Community) ([]storage.Thread, error) {
	return s.store.PinnedThreads(ctx, c.ID)
}

// Outbox returns one page of a community's outbox (its announces), newest
// first, and its total.
func (s *Service) Outbox(ctx context.Context, c storage.Community, offset, limit int) (int, []string, error) {
	total, err := s.store.CountListedActivities(ctx, c.ID)
	if err != nil || limit == 0 {
		return total, nil, err
	}
	iris, err := s.store.ListedActivities(ctx, c.ID, offset, limit)
	return total, iris, err
}

// PostCommunity returns the name of the community a post we have belongs
// to, or ErrNotFound.
func (s *Service) PostCommunity(ctx context.Context, iri string) (string, error) {
	p, err := s.store.PostByIRI(ctx, iri)
	if err != nil {
		return "", err
	}
	c, err := s.communityByID(ctx, p.CommunityID)
	if err != nil {
		return "", err
	}
	return c.Name, nil
}
