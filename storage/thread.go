package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Thread is a discussion: a top-level post and the replies under it.
type Thread struct {
	ID             int64
	CommunityID    int64
	RootIRI        string
	Title          string
	AuthorIRI      string
	CreatedAt      time.Time
	LastActivityAt time.Time
	Replies        int
	Pinned         bool
	Locked         bool
	Removed        bool
}

const threadColumns = `id, community_id, root_iri, title, author_iri, created_at, last_activity_at, replies, pinned, locked, removed`

func scanThread(row scanner) (Thread, error) {
	var t Thread
	var created, last int64
	err := row.Scan(&t.ID, &t.CommunityID, &t.RootIRI, &t.Title, &t.AuthorIRI, &created, &last, &t.Replies, &t.Pinned, &t.Locked, &t.Removed)
	t.CreatedAt, t.LastActivityAt = fromDB(created), fromDB(last)
	return t, err
}

const createThreadQuery = `
	INSERT INTO threads (community_id, root_iri, title, author_iri, created_at, last_activity_at)
	VALUES (?, ?, ?, ?, ?, ?)` + returningID

// CreateThread starts a thread and returns it as stored: no replies, no
// flags, its last activity when it was made (to the millisecond).
func (tx *Tx) CreateThread(ctx context.Context, t Thread) (Thread, error) {
	id, err := tx.insert(ctx, createThreadQuery, t.CommunityID, t.RootIRI, t.Title, t.AuthorIRI, toDB(t.CreatedAt), toDB(t.CreatedAt))
	if err != nil {
		return Thread{}, fmt.Errorf("create thread %s: %w", t.RootIRI, mapError(err))
	}
	created := fromDB(toDB(t.CreatedAt))
	return Thread{ID: id, CommunityID: t.CommunityID, RootIRI: t.RootIRI, Title: t.Title, AuthorIRI: t.AuthorIRI,
		CreatedAt: created, LastActivityAt: created}, nil
}

const touchThreadQuery = `UPDATE threads SET replies = replies + ?1, last_activity_at = CASE WHEN last_activity_at > ?2 THEN last_activity_at ELSE ?2 END WHERE id = ?3`

// TouchThread counts a new reply (delta 1) or a removed one (-1) and moves
// the thread's last activity forward.
func (tx *Tx) TouchThread(ctx context.Context, id int64, delta int, at time.Time) error {
	if _, err := tx.exec(ctx, touchThreadQuery, delta, toDB(at), id); err != nil {
		return fmt.Errorf("touch thread %d: %w", id, mapError(err))
	}
	return nil
}

// ThreadFlags are the moderation flags of a thread.
type ThreadFlags struct {
	Pinned, Locked, Removed bool
}

const setThreadFlagsQuery = `UPDATE threads SET pinned = ?, locked = ?, removed = ? WHERE id = ?`

// SetThreadFlags writes the pinned, locked and removed flags of a thread.
func (tx *Tx) SetThreadFlags(ctx context.Context, id int64, f ThreadFlags) error {
	if _, err := tx.tx.ExecContext(ctx, setThreadFlagsQuery, f.Pinned, f.Locked, f.Removed, id); err != nil {
		return fmt.Errorf("set flags of thread %d: %w", id, mapError(err))
	}
	return nil
}

const threadByIDQuery = `SELECT ` + threadColumns + ` FROM threads WHERE id = ?`

// ThreadByID returns a thread, or ErrNotFound.
func (s *Store) ThreadByID(ctx context.Context, id int64) (Thread, error) {
	t, err := scanThread(s.read.QueryRowContext(ctx, threadByIDQuery, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Thread{}, ErrNotFound
	}
	if err != nil {
		return Thread{}, fmt.Errorf("thread %d: %w", id, err)
	}
	return t, nil
}

// ThreadByID returns a thread inside a transaction, or ErrNotFound.
func (tx *Tx) ThreadByID(ctx context.Context, id int64) (Thread, error) {
	t, err := scanThread(tx.queryRow(ctx, threadByIDQuery, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Thread{}, ErrNotFound
	}
	if err != nil {
		return Thread{}, fmt.Errorf("thread %d: %w", id, err)
	}
	return t, nil
}

const threadsQuery = `
	SELECT ` + threadColumns + ` FROM threads
	WHERE community_id = ? AND removed = 0
	ORDER BY pinned DESC, last_activity_at DESC, id DESC LIMIT ? OFFSET ?`

// Threads lists the visible threads of a community, pinned first, then by
// most recent activity.
func (s *Store) Threads(ctx context.Context, communityID int64, offset, limit int) ([]Thread, error) {
	rows, err := s.read.QueryContext(ctx, threadsQuery, communityID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("threads: %w", err)
	}
	defer rows.Close()
	var out []Thread
	for rows.Next() {
		t, err := scanThread(rows)
		if err != nil {
			return nil, fmt.Errorf("threads: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

const pinnedThreadsQuery = `SELECT ` + threadColumns + ` FROM threads WHERE community_id = ? AND pinned = 1 AND removed = 0 ORDER BY id`

// PinnedThreads lists the pinned threads of a community.
func (s *Store) PinnedThreads(ctx context.Context, communityID int64) ([]Thread, error) {
	rows, err := s.read.QueryContext(ctx, pinnedThreadsQuery, communityID)
	if err != nil {
		return nil, fmt.Errorf("pinned threads: %w", err)
	}
	defer rows.Close()
	var out []Thread
	for rows.Next() {
		t, err := scanThread(rows)
		if err != nil {
			return nil, fmt.Errorf("pinned threads: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CountThreads counts the visible threads of a community.
func (s *Store) CountThreads(ctx context.Context, communityID int64) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM threads WHERE community_id = ? AND removed = 0`, communityID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count threads: %w", err)
	}
	return n, nil
}
