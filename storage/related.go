package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Related is a community one of ours follows (a Group → Group follow).
type Related struct {
	ID          int64
	CommunityID int64
	RemoteIRI   string
	FollowIRI   string
	State       string // pending, accepted, rejected
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const relatedColumns = `id, community_id, remote_iri, follow_iri, state, created_at, updated_at`

func scanRelated(row scanner) (Related, error) {
	var r Related
	var created, updated int64
	err := row.Scan(&r.ID, &r.CommunityID, &r.RemoteIRI, &r.FollowIRI, &r.State, &created, &updated)
	r.CreatedAt, r.UpdatedAt = fromDB(created), fromDB(updated)
	return r, err
}

// UpsertRelated records that a community asked to follow another; asking
// again starts over with a new Follow id.
func (tx *Tx) UpsertRelated(ctx context.Context, r Related) error {
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO related (community_id, remote_iri, follow_iri, state, created_at, updated_at) VALUES (?, ?, ?, 'pending', ?, ?)
		ON CONFLICT (community_id, remote_iri) DO UPDATE SET follow_iri = excluded.follow_iri, state = 'pending', updated_at = excluded.updated_at`,
		r.CommunityID, r.RemoteIRI, r.FollowIRI, toDB(r.CreatedAt), toDB(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("follow %s: %w", r.RemoteIRI, mapError(err))
	}
	return nil
}

// RelatedByFollow returns the related row whose Follow has that id, or
// ErrNotFound.
func (s *Store) RelatedByFollow(ctx context.Context, followIRI string) (Related, error) {
	r, err := scanRelated(s.read.QueryRowContext(ctx, `SELECT `+relatedColumns+` FROM related WHERE follow_iri = ?`, followIRI))
	if errors.Is(err, sql.ErrNoRows) {
		return Related{}, ErrNotFound
	}
	return r, err
}

// SetRelatedState records the answer to a community's Follow.
func (tx *Tx) SetRelatedState(ctx context.Context, id int64, state string, at time.Time) error {
	if _, err := tx.tx.ExecContext(ctx, `UPDATE related SET state = ?, updated_at = ? WHERE id = ?`, state, toDB(at), id); err != nil {
		return fmt.Errorf("set related %d: %w", id, mapError(err))
	}
	return nil
}

// RelatedOf lists the communities a community follows, in every state.
func (s *Store) RelatedOf(ctx context.Context, communityID int64) ([]Related, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+relatedColumns+` FROM related WHERE community_id = ? ORDER BY id`, communityID)
	if err != nil {
		return nil, fmt.Errorf("related: %w", err)
	}
	defer rows.Close()
	var out []Related
	for rows.Next() {
		r, err := scanRelated(rows)
		if err != nil {
			return nil, fmt.Errorf("related: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Share is an object a broker shared into a community.
type Share struct {
	CommunityID int64
	ObjectIRI   string
	SourceIRI   string
	BrokerIRI   string
	ActivityIRI string
	CreatedAt   time.Time
}

// CreateShare records a share; the same object twice in one community
// gives ErrConflict.
func (tx *Tx) CreateShare(ctx context.Context, sh Share) error {
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO shares (community_id, object_iri, source_iri, broker_iri, activity_iri, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		sh.CommunityID, sh.ObjectIRI, sh.SourceIRI, sh.BrokerIRI, sh.ActivityIRI, toDB(sh.CreatedAt))
	if err != nil {
		return fmt.Errorf("share %s: %w", sh.ObjectIRI, mapError(err))
	}
	return nil
}

// Shares lists what brokers shared into a community, newest first.
func (s *Store) Shares(ctx context.Context, communityID int64, limit int) ([]Share, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT community_id, object_iri, source_iri, broker_iri, activity_iri, created_at FROM shares WHERE community_id = ? ORDER BY id DESC LIMIT ?`, communityID, limit)
	if err != nil {
		return nil, fmt.Errorf("shares: %w", err)
	}
	defer rows.Close()
	var out []Share
	for rows.Next() {
		var sh Share
		var at int64
		if err := rows.Scan(&sh.CommunityID, &sh.ObjectIRI, &sh.SourceIRI, &sh.BrokerIRI, &sh.ActivityIRI, &at); err != nil {
			return nil, fmt.Errorf("shares: %w", err)
		}
		sh.CreatedAt = fromDB(at)
		out = append(out, sh)
	}
	return out, rows.Err()
}
