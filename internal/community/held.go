package community

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coppice-dev/coppice/internal/hostname"
	"github.com/coppice-dev/coppice/storage"
)

// The moderation queue (GRP-06). In a community whose posting policy is
// 'moderators', a member's post is not refused: it waits for a
// moderator, who approves it (it is then placed and announced as any post)
// or rejects it (it is dropped). Nothing of a waiting post is shown or
// announced. The queue is bounded, so a flood of posts into a closed
// community cannot fill the database.
const (
	// MaxHeldPosts bounds the posts waiting in one community's queue.
	MaxHeldPosts = 500
	// MaxHeldPostsPerAuthor bounds one author's posts in that queue.
	MaxHeldPostsPerAuthor = 10
)

// heldSubmission is a Submission as the queue keeps it: the actor by its
// IRI (its stored document may change while the post waits).
type heldSubmission struct {
	ActivityIRI  string `json:"activity_iri"`
	ActivityType string `json:"activity_type"`
	ActorIRI     string `json:"actor"`
	Raw          []byte `json:"raw"`
	Note         Note   `json:"note"`
	Ancestors    []Note `json:"ancestors,omitempty"`
}

// hold puts a post the posting policy does not let in at once into the
// community's moderation queue. A post we have already, or one waiting
// already, is left as it is.
func (s *Service) hold(ctx context.Context, c storage.Community, sub Submission) error {
	b, err := json.Marshal(heldSubmission{ActivityIRI: sub.Activity.IRI, ActivityType: sub.Activity.Type, ActorIRI: sub.Activity.Actor.IRI,
		Raw: sub.Activity.Raw, Note: sub.Note, Ancestors: sub.Ancestors})
	if err != nil {
		return fmt.Errorf("hold post %s: %w", sub.Note.IRI, err)
	}
	return s.inTx(ctx, func(tx *storage.Tx) error {
		if _, err := tx.PostByIRI(ctx, sub.Note.IRI); err == nil {
			return nil // ORI-08: a post we have is never changed by a Create
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		all, mine, err := tx.HeldCounts(ctx, c.ID, sub.Activity.Actor.IRI)
		if err != nil {
			return err
		}
		if all >= MaxHeldPosts || mine >= MaxHeldPostsPerAuthor {
			return refused("too many posts wait for a moderator in this community; try again later")
		}
		_, err = tx.HoldPost(ctx, storage.HeldPost{CommunityID: c.ID, ActivityIRI: sub.Activity.IRI, NoteIRI: sub.Note.IRI,
			ActorIRI: sub.Activity.Actor.IRI, Submission: b, ReceivedAt: s.now()})
		return err
	})
}

// HeldPost is a post waiting in a community's moderation queue, as the
// console shows it.
type HeldPost struct {
	ID         int64
	NoteIRI    string
	AuthorIRI  string
	Name       string // sanitized text
	Content    string // sanitized HTML
	InReplyTo  string
	ReceivedAt time.Time
}

// HeldPosts returns the posts waiting in community c's queue, oldest first.
func (s *Service) HeldPosts(ctx context.Context, c storage.Community) ([]HeldPost, error) {
	rows, err := s.store.HeldPosts(ctx, c.ID, MaxHeldPosts)
	if err != nil {
		return nil, err
	}
	out := make([]HeldPost, 0, len(rows))
	for _, h := range rows {
		var sub heldSubmission
		if err := json.Unmarshal(h.Submission, &sub); err != nil {
			return nil, fmt.Errorf("held post %d: %w", h.ID, err)
		}
		out = append(out, HeldPost{ID: h.ID, NoteIRI: h.NoteIRI, AuthorIRI: h.ActorIRI, Name: s.sanitize.Text(sub.Note.Name, MaxTitleRunes),
			Content: s.sanitize.HTML(sub.Note.Content), InReplyTo: sub.Note.InReplyTo, ReceivedAt: h.ReceivedAt})
	}
	return out, nil
}

// ReviewHeld approves (approve) or rejects a post waiting in a community's
// queue, as principal p, who must moderate the community. An approved post
// is placed and announced as if it had just arrived, under the rules of
// now: a post whose author is banned, or whose thread is locked or gone,
// is refused and stays in the queue. Either way the moderation log says
// who did it.
func (s *Service) ReviewHeld(ctx context.Context, p Principal, communityName string, id int64, approve bool) error {
	c, err := s.store.CommunityByName(ctx, communityName)
	if err != nil {
		return err
	}
	h, err := s.store.HeldPostByID(ctx, id)
	if err != nil {
		return err
	}
	if h.CommunityID != c.ID {
		return ErrNotFound // a post of another community's queue
	}
	action := "reject post"
	if approve {
		action = "approve post"
	}
	take := func(tx *storage.Tx) error {
		if err := s.mustModerate(ctx, tx, c, p); err != nil {
			return err
		}
		if _, err := tx.TakeHeldPost(ctx, id); errors.Is(err, storage.ErrNotFound) {
			return refused("that post was reviewed already")
		} else if err != nil {
			return err
		}
		return tx.LogModeration(ctx, c.ID, storage.LogEntry{By: p.auditName(), Action: action, Target: h.NoteIRI, At: s.now()})
	}
	if !approve {
		return s.inTx(ctx, take)
	}
	var sub heldSubmission
	if err := json.Unmarshal(h.Submission, &sub); err != nil {
		return fmt.Errorf("held post %d: %w", id, err)
	}
	banned, err := s.store.IsBanned(ctx, c.ID, sub.ActorIRI)
	if err != nil {
		return err
	}
	if banned {
		return refused("the author is banned from this community: reject the post")
	}
	actor, err := s.store.ActorByIRI(ctx, sub.ActorIRI)
	if errors.Is(err, storage.ErrNotFound) {
		actor = storage.Actor{IRI: sub.ActorIRI, Host: hostname.Of(sub.ActorIRI)}
	} else if err != nil {
		return err
	}
	return s.accept(ctx, c, Submission{
		Activity:  Incoming{IRI: sub.ActivityIRI, Type: sub.ActivityType, Actor: actor, Raw: sub.Raw},
		Note:      sub.Note,
		Ancestors: sub.Ancestors,
	}, take)
}

// withdrawHeld applies an author's Delete of a post we do not have: a post
// of theirs waiting in a queue leaves it, so that no moderator can publish
// what its author took back. The Delete is recorded either way.
func (s *Service) withdrawHeld(ctx context.Context, in Incoming, noteIRI string) error {
	return s.inTx(ctx, func(tx *storage.Tx) error {
		if _, err := tx.DropHeldPost(ctx, noteIRI, in.Actor.IRI); err != nil {
			return err
		}
		return s.record(ctx, tx, 0, in)
	})
}

// editHeld applies an author's Update of a post we do not have: a post of
// theirs waiting in a queue is replaced by the edited one, or leaves the
// queue when the edit made it non-public. The Update is recorded either
// way.
func (s *Service) editHeld(ctx context.Context, in Incoming, n Note) error {
	return s.inTx(ctx, func(tx *storage.Tx) error {
		h, err := tx.HeldPostByNote(ctx, n.IRI, in.Actor.IRI)
		if errors.Is(err, storage.ErrNotFound) {
			return s.record(ctx, tx, 0, in)
		}
		if err != nil {
			return err
		}
		if !n.Public {
			if _, err := tx.DropHeldPost(ctx, n.IRI, in.Actor.IRI); err != nil {
				return err
			}
			return s.record(ctx, tx, h.CommunityID, in)
		}
		var sub heldSubmission
		if err := json.Unmarshal(h.Submission, &sub); err != nil {
			return fmt.Errorf("held post %d: %w", h.ID, err)
		}
		n.ToCommunity = n.ToCommunity || sub.Note.ToCommunity
		sub.Note = n
		b, err := json.Marshal(sub)
		if err != nil {
			return err
		}
		if err := tx.ReplaceHeldSubmission(ctx, h.ID, b); err != nil {
			return err
		}
		return s.record(ctx, tx, h.CommunityID, in)
	})
}
