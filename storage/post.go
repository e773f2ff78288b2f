package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Post is a Note, Page, Article or Question in a thread.
type Post struct {
	ID          int64
	IRI         string
	ThreadID    int64
	CommunityID int64
	Type        string
	AuthorIRI   string
	InReplyTo   string
	Name        string
	Content     string // sanitized HTML
	Summary     string
	URL         string
	Published   time.Time
	Updated     time.Time
	DeletedAt   time.Time
	Likes       int
	Dislikes    int
	// Raw is the JSON of a post fetched by its IRI (an ancestor, or the
	// object a Create named by IRI); a post that came embedded in an
	// activity has none, as the activity's raw JSON holds it.
	Raw []byte
	// ActivityIRI is the inbox activity that carries the post's text
	// (its Create, or the Update of UpdatePost), recorded before; "" for
	// none. It is written, not read back.
	ActivityIRI string
}

const postColumns = `id, iri, thread_id, community_id, type, author_iri, in_reply_to, name, content, summary, url,
	published, updated, deleted_at, likes, dislikes, raw`

func scanPost(row scanner) (Post, error) {
	var p Post
	var published, updated, deleted int64
	var raw string
	err := row.Scan(&p.ID, &p.IRI, &p.ThreadID, &p.CommunityID, &p.Type, &p.AuthorIRI, &p.InReplyTo, &p.Name, &p.Content,
		&p.Summary, &p.URL, &published, &updated, &deleted, &p.Likes, &p.Dislikes, &raw)
	p.Published, p.Updated, p.DeletedAt, p.Raw = fromDB(published), fromDB(updated), fromDB(deleted), []byte(raw)
	return p, err
}

const createPostQuery = `
	INSERT INTO posts (iri, thread_id, community_id, type, author_iri, in_reply_to, name, content, summary, url, published, raw, activity_id)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE((SELECT id FROM inbox_activities WHERE iri = ?), 0))` + returningID

// CreatePost stores a post and returns it as stored (times to the
// millisecond, no votes, neither updated nor deleted). A post with the
// same IRI gives ErrConflict.
func (tx *Tx) CreatePost(ctx context.Context, p Post) (Post, error) {
	id, err := tx.insert(ctx, createPostQuery, p.IRI, p.ThreadID, p.CommunityID, p.Type, p.AuthorIRI,
		p.InReplyTo, p.Name, p.Content, p.Summary, p.URL, toDB(p.Published), string(p.Raw), p.ActivityIRI)
	if err != nil {
		return Post{}, fmt.Errorf("create post %s: %w", p.IRI, mapError(err))
	}
	p.ID, p.Published = id, fromDB(toDB(p.Published))
	p.Updated, p.DeletedAt, p.Likes, p.Dislikes = time.Time{}, time.Time{}, 0, 0
	if p.Raw == nil {
		p.Raw = []byte{}
	}
	return p, nil
}

const (
	updatePostQuery = `UPDATE posts SET name = ?, content = ?, summary = ?, updated = ?, raw = ?,
		activity_id = COALESCE((SELECT id FROM inbox_activities WHERE iri = ?), 0) WHERE id = ?`
	// forgetPostActivityQuery empties the raw of the inbox activity that
	// carried a post's text, unless that is the activity now taking its
	// place (?2).
	forgetPostActivityQuery = `UPDATE inbox_activities SET raw = ''
		WHERE id = (SELECT activity_id FROM posts WHERE id = ?1) AND iri <> ?2`
)

// UpdatePost replaces the text of a post with that of p.ActivityIRI; the
// raw of the activity that carried the text before is emptied.
func (tx *Tx) UpdatePost(ctx context.Context, p Post) error {
	if _, err := tx.tx.ExecContext(ctx, forgetPostActivityQuery, p.ID, p.ActivityIRI); err != nil {
		return fmt.Errorf("update post %s: %w", p.IRI, mapError(err))
	}
	if _, err := tx.tx.ExecContext(ctx, updatePostQuery, p.Name, p.Content, p.Summary, toDB(p.Updated), string(p.Raw), p.ActivityIRI, p.ID); err != nil {
		return fmt.Errorf("update post %s: %w", p.IRI, mapError(err))
	}
	return nil
}

const deletePostQuery = `UPDATE posts SET deleted_at = ?, content = '', summary = '', name = '', raw = '', activity_id = 0 WHERE id = ? AND deleted_at = 0`

// DeletePost turns a post into a tombstone: its text is gone, the JSON it
// came as too, as is the raw of the inbox activity that carried its text;
// its place in the thread stays. It reports whether the post was live.
func (tx *Tx) DeletePost(ctx context.Context, id int64, at time.Time) (bool, error) {
	if _, err := tx.tx.ExecContext(ctx, forgetPostActivityQuery, id, ""); err != nil {
		return false, fmt.Errorf("delete post %d: %w", id, mapError(err))
	}
	res, err := tx.tx.ExecContext(ctx, deletePostQuery, toDB(at), id)
	if err != nil {
		return false, fmt.Errorf("delete post %d: %w", id, mapError(err))
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

const postByIRIQuery = `SELECT ` + postColumns + ` FROM posts WHERE iri = ?`

// PostByIRI returns a post, or ErrNotFound.
func (s *Store) PostByIRI(ctx context.Context, iri string) (Post, error) {
	p, err := scanPost(s.readRow(ctx, postByIRIQuery, iri))
	if errors.Is(err, sql.ErrNoRows) {
		return Post{}, ErrNotFound
	}
	if err != nil {
		return Post{}, fmt.Errorf("post %s: %w", iri, err)
	}
	return p, nil
}

// PostByIRI returns a post inside a transaction, or ErrNotFound.
func (tx *Tx) PostByIRI(ctx context.Context, iri string) (Post, error) {
	p, err := scanPost(tx.queryRow(ctx, postByIRIQuery, iri))
	if errors.Is(err, sql.ErrNoRows) {
		return Post{}, ErrNotFound
	}
	if err != nil {
		return Post{}, fmt.Errorf("post %s: %w", iri, err)
	}
	return p, nil
}

const threadPostsQuery = `SELECT ` + postColumns + ` FROM posts WHERE thread_id = ? ORDER BY published, id LIMIT ? OFFSET ?`

// ThreadPosts lists the posts of a thread in the order they were written.
func (s *Store) ThreadPosts(ctx context.Context, threadID int64, offset, limit int) ([]Post, error) {
	rows, err := s.read.QueryContext(ctx, threadPostsQuery, threadID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("thread posts: %w", err)
	}
	defer rows.Close()
	var out []Post
	for rows.Next() {
		p, err := scanPost(rows)
		if err != nil {
			return nil, fmt.Errorf("thread posts: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CountThreadPosts counts the posts of a thread, deleted ones included.
func (s *Store) CountThreadPosts(ctx context.Context, threadID int64) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM posts WHERE thread_id = ?`, threadID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count thread posts: %w", err)
	}
	return n, nil
}

// CountPosts counts the live posts of the whole instance.
func (s *Store) CountPosts(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM posts WHERE deleted_at = 0`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count posts: %w", err)
	}
	return n, nil
}

const setVoteQuery = `
	INSERT INTO votes (post_id, actor_iri, kind, activity_iri, created_at) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (post_id, actor_iri) DO UPDATE SET kind = excluded.kind, activity_iri = excluded.activity_iri`

const recountVotesQuery = `
	UPDATE posts SET
		likes = (SELECT COUNT(*) FROM votes WHERE post_id = ?1 AND kind = 'like'),
		dislikes = (SELECT COUNT(*) FROM votes WHERE post_id = ?1 AND kind = 'dislike')
	WHERE id = ?1`

// SetVote records the vote of an actor on a post (one per actor: a new one
// replaces the old) and updates the post's counts.
func (tx *Tx) SetVote(ctx context.Context, postID int64, actorIRI, kind, activityIRI string, at time.Time) error {
	if _, err := tx.tx.ExecContext(ctx, setVoteQuery, postID, actorIRI, kind, activityIRI, toDB(at)); err != nil {
		return fmt.Errorf("vote on post %d: %w", postID, mapError(err))
	}
	if _, err := tx.tx.ExecContext(ctx, recountVotesQuery, postID); err != nil {
		return fmt.Errorf("count votes of post %d: %w", postID, mapError(err))
	}
	return nil
}

// RemoveVote removes the vote of an actor on a post, if any, and updates
// the counts.
func (tx *Tx) RemoveVote(ctx context.Context, postID int64, actorIRI string) error {
	if _, err := tx.tx.ExecContext(ctx, `DELETE FROM votes WHERE post_id = ? AND actor_iri = ?`, postID, actorIRI); err != nil {
		return fmt.Errorf("remove vote on post %d: %w", postID, mapError(err))
	}
	if _, err := tx.tx.ExecContext(ctx, recountVotesQuery, postID); err != nil {
		return fmt.Errorf("count votes of post %d: %w", postID, mapError(err))
	}
	return nil
}

// PostThreadID returns the thread of a post row, or ErrNotFound.
func (s *Store) PostThreadID(ctx context.Context, id int64) (int64, error) {
	var t int64
	err := s.read.QueryRowContext(ctx, `SELECT thread_id FROM posts WHERE id = ?`, id).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return t, err
}
