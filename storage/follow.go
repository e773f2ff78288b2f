package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Follow states.
const (
	FollowPending  = "pending"
	FollowAccepted = "accepted"
)

// Follow is a remote actor following a community, or asking to.
type Follow struct {
	ID          int64
	CommunityID int64
	ActorIRI    string
	FollowIRI   string // id of the Follow activity, which Accept and Reject quote
	State       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const followColumns = `id, community_id, actor_iri, follow_iri, state, created_at, updated_at`

func scanFollow(row scanner) (Follow, error) {
	var f Follow
	var created, updated int64
	err := row.Scan(&f.ID, &f.CommunityID, &f.ActorIRI, &f.FollowIRI, &f.State, &created, &updated)
	f.CreatedAt, f.UpdatedAt = fromDB(created), fromDB(updated)
	return f, err
}

const upsertFollowQuery = `
	INSERT INTO follows (community_id, actor_iri, follow_iri, state, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?)
	ON CONFLICT (community_id, actor_iri) DO UPDATE SET follow_iri = excluded.follow_iri, updated_at = excluded.updated_at
	RETURNING ` + followColumns

// UpsertFollow records a Follow. A repeated Follow by the same actor keeps
// the existing state and only remembers the newest Follow id.
func (tx *Tx) UpsertFollow(ctx context.Context, f Follow) (Follow, error) {
	tx.followed = nil
	out, err := scanFollow(tx.tx.QueryRowContext(ctx, upsertFollowQuery, f.CommunityID, f.ActorIRI, f.FollowIRI, f.State,
		toDB(f.CreatedAt), toDB(f.CreatedAt)))
	if err != nil {
		return Follow{}, fmt.Errorf("upsert follow of %s: %w", f.ActorIRI, mapError(err))
	}
	return out, nil
}

const setFollowStateQuery = `UPDATE follows SET state = ?, updated_at = ? WHERE community_id = ? AND actor_iri = ?`

// SetFollowState changes the state of a follow; ErrNotFound if there is none.
func (tx *Tx) SetFollowState(ctx context.Context, communityID int64, actorIRI, state string, now time.Time) error {
	tx.followed = nil
	res, err := tx.tx.ExecContext(ctx, setFollowStateQuery, state, toDB(now), communityID, actorIRI)
	if err != nil {
		return fmt.Errorf("set follow of %s to %s: %w", actorIRI, state, mapError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

const deleteFollowQuery = `DELETE FROM follows WHERE community_id = ? AND actor_iri = ? RETURNING ` + followColumns

// DeleteFollow removes a follow and returns it; ErrNotFound if there was none.
func (tx *Tx) DeleteFollow(ctx context.Context, communityID int64, actorIRI string) (Follow, error) {
	tx.followed = nil
	f, err := scanFollow(tx.tx.QueryRowContext(ctx, deleteFollowQuery, communityID, actorIRI))
	if errors.Is(err, sql.ErrNoRows) {
		return Follow{}, ErrNotFound
	}
	if err != nil {
		return Follow{}, fmt.Errorf("delete follow of %s: %w", actorIRI, mapError(err))
	}
	return f, nil
}

const followQuery = `SELECT ` + followColumns + ` FROM follows WHERE community_id = ? AND actor_iri = ?`

// Follow returns the follow of actorIRI in a community, or ErrNotFound.
func (tx *Tx) Follow(ctx context.Context, communityID int64, actorIRI string) (Follow, error) {
	f, err := scanFollow(tx.tx.QueryRowContext(ctx, followQuery, communityID, actorIRI))
	if errors.Is(err, sql.ErrNoRows) {
		return Follow{}, ErrNotFound
	}
	if err != nil {
		return Follow{}, fmt.Errorf("follow of %s: %w", actorIRI, err)
	}
	return f, nil
}

// Follow returns the follow of actorIRI in a community, or ErrNotFound.
func (s *Store) Follow(ctx context.Context, communityID int64, actorIRI string) (Follow, error) {
	f, err := scanFollow(s.read.QueryRowContext(ctx, followQuery, communityID, actorIRI))
	if errors.Is(err, sql.ErrNoRows) {
		return Follow{}, ErrNotFound
	}
	if err != nil {
		return Follow{}, fmt.Errorf("follow of %s: %w", actorIRI, err)
	}
	return f, nil
}

const followsQuery = `SELECT ` + followColumns + ` FROM follows WHERE community_id = ? AND state = ? ORDER BY id LIMIT ? OFFSET ?`

// Follows lists the follows of a community in one state, oldest first.
func (s *Store) Follows(ctx context.Context, communityID int64, state string, offset, limit int) ([]Follow, error) {
	rows, err := s.read.QueryContext(ctx, followsQuery, communityID, state, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("follows: %w", err)
	}
	defer rows.Close()
	var out []Follow
	for rows.Next() {
		f, err := scanFollow(rows)
		if err != nil {
			return nil, fmt.Errorf("follows: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

const countFollowsQuery = `SELECT COUNT(*) FROM follows WHERE community_id = ? AND state = ?`

// CountFollows counts the follows of a community in one state.
func (s *Store) CountFollows(ctx context.Context, communityID int64, state string) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, countFollowsQuery, communityID, state).Scan(&n); err != nil {
		return 0, fmt.Errorf("count follows: %w", err)
	}
	return n, nil
}
