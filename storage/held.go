package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// HeldPost is a post waiting for a moderator's approval (GRP-06).
type HeldPost struct {
	ID          int64
	CommunityID int64
	ActivityIRI string
	NoteIRI     string
	ActorIRI    string
	// Submission is the post as the inbox read it, in the community
	// layer's form (JSON).
	Submission []byte
	ReceivedAt time.Time
}

const heldColumns = `id, community_id, activity_iri, note_iri, actor_iri, submission, received_at`

func scanHeld(row scanner) (HeldPost, error) {
	var h HeldPost
	var sub string
	var at int64
	err := row.Scan(&h.ID, &h.CommunityID, &h.ActivityIRI, &h.NoteIRI, &h.ActorIRI, &sub, &at)
	h.Submission, h.ReceivedAt = []byte(sub), fromDB(at)
	return h, err
}

// HoldPost puts a post in its community's moderation queue. It reports
// false, and changes nothing, when the activity or the post waits there
// already.
func (tx *Tx) HoldPost(ctx context.Context, h HeldPost) (bool, error) {
	res, err := tx.tx.ExecContext(ctx, `INSERT INTO held_posts (community_id, activity_iri, note_iri, actor_iri, submission, received_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		h.CommunityID, h.ActivityIRI, h.NoteIRI, h.ActorIRI, string(h.Submission), toDB(h.ReceivedAt))
	if err != nil {
		return false, fmt.Errorf("hold post %s: %w", h.NoteIRI, mapError(err))
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// HeldCounts returns how many posts wait in a community's queue, in all
// and from one actor.
func (tx *Tx) HeldCounts(ctx context.Context, communityID int64, actorIRI string) (all, byActor int, err error) {
	err = tx.tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN actor_iri = ? THEN 1 ELSE 0 END), 0) FROM held_posts WHERE community_id = ?`,
		actorIRI, communityID).Scan(&all, &byActor)
	if err != nil {
		return 0, 0, fmt.Errorf("held posts of %d: %w", communityID, mapError(err))
	}
	return all, byActor, nil
}

// HeldPosts returns the posts waiting in a community's queue, oldest
// first, at most limit.
func (s *Store) HeldPosts(ctx context.Context, communityID int64, limit int) ([]HeldPost, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+heldColumns+` FROM held_posts WHERE community_id = ? ORDER BY id LIMIT ?`, communityID, limit)
	if err != nil {
		return nil, fmt.Errorf("held posts of %d: %w", communityID, err)
	}
	defer rows.Close()
	var out []HeldPost
	for rows.Next() {
		h, err := scanHeld(rows)
		if err != nil {
			return nil, fmt.Errorf("held posts of %d: %w", communityID, err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// TakeHeldPost removes a post from its queue and returns it, or
// ErrNotFound when it is not there (never held, or reviewed already).
func (tx *Tx) TakeHeldPost(ctx context.Context, id int64) (HeldPost, error) {
	h, err := scanHeld(tx.tx.QueryRowContext(ctx, `DELETE FROM held_posts WHERE id = ? RETURNING `+heldColumns, id))
	if errors.Is(err, sql.ErrNoRows) {
		return HeldPost{}, ErrNotFound
	}
	if err != nil {
		return HeldPost{}, fmt.Errorf("take held post %d: %w", id, mapError(err))
	}
	return h, nil
}

// DropHeldPost removes the waiting post noteIRI when actorIRI sent it,
// and reports whether there was one (an author who deletes a post that
// waits takes it back).
func (tx *Tx) DropHeldPost(ctx context.Context, noteIRI, actorIRI string) (bool, error) {
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM held_posts WHERE note_iri = ? AND actor_iri = ?`, noteIRI, actorIRI)
	if err != nil {
		return false, fmt.Errorf("drop held post %s: %w", noteIRI, mapError(err))
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// HeldPostByNote returns the waiting post noteIRI that actorIRI sent, or
// ErrNotFound.
func (tx *Tx) HeldPostByNote(ctx context.Context, noteIRI, actorIRI string) (HeldPost, error) {
	h, err := scanHeld(tx.tx.QueryRowContext(ctx, `SELECT `+heldColumns+` FROM held_posts WHERE note_iri = ? AND actor_iri = ?`, noteIRI, actorIRI))
	if errors.Is(err, sql.ErrNoRows) {
		return HeldPost{}, ErrNotFound
	}
	if err != nil {
		return HeldPost{}, fmt.Errorf("held post %s: %w", noteIRI, mapError(err))
	}
	return h, nil
}

// ReplaceHeldSubmission replaces what a waiting post holds (its author
// edited it while it waited).
func (tx *Tx) ReplaceHeldSubmission(ctx context.Context, id int64, submission []byte) error {
	if _, err := tx.tx.ExecContext(ctx, `UPDATE held_posts SET submission = ? WHERE id = ?`, string(submission), id); err != nil {
		return fmt.Errorf("replace held post %d: %w", id, mapError(err))
	}
	return nil
}

// HeldPostByID returns a post of a moderation queue, or ErrNotFound.
func (s *Store) HeldPostByID(ctx context.Context, id int64) (HeldPost, error) {
	h, err := scanHeld(s.read.QueryRowContext(ctx, `SELECT `+heldColumns+` FROM held_posts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return HeldPost{}, ErrNotFound
	}
	if err != nil {
		return HeldPost{}, fmt.Errorf("held post %d: %w", id, err)
	}
	return h, nil
}
