package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// WikiPage is a page of a community's wiki with its current revision.
type WikiPage struct {
	ID          int64
	CommunityID int64
	Slug        string
	IRI         string
	Title       string
	Revision    int // the number of the current revision
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// WikiRevision is one saved version of a page.
type WikiRevision struct {
	ID        int64
	PageID    int64
	Number    int
	Title     string
	Body      string // Markdown as written
	HTML      string // rendered and sanitized
	Summary   string // the edit summary
	Author    string
	CreatedAt time.Time
}

const wikiPageColumns = `id, community_id, slug, iri, title, revision, created_at, updated_at`

func scanWikiPage(row scanner) (WikiPage, error) {
	var p WikiPage
	var created, updated int64
	err := row.Scan(&p.ID, &p.CommunityID, &p.Slug, &p.IRI, &p.Title, &p.Revision, &created, &updated)
	p.CreatedAt, p.UpdatedAt = fromDB(created), fromDB(updated)
	return p, err
}

const wikiRevisionColumns = `id, page_id, number, title, body, html, summary, author, created_at`

func scanWikiRevision(row scanner) (WikiRevision, error) {
	var r WikiRevision
	var created int64
	err := row.Scan(&r.ID, &r.PageID, &r.Number, &r.Title, &r.Body, &r.HTML, &r.Summary, &r.Author, &created)
	r.CreatedAt = fromDB(created)
	return r, err
}

const wikiPageQuery = `SELECT ` + wikiPageColumns + ` FROM wiki_pages WHERE community_id = ? AND slug = ?`

// WikiPage returns a community's page by slug, or ErrNotFound.
func (s *Store) WikiPage(ctx context.Context, communityID int64, slug string) (WikiPage, error) {
	return wikiPage(s.read.QueryRowContext(ctx, wikiPageQuery, communityID, slug), slug)
}

// WikiPage returns a community's page by slug inside a transaction.
func (tx *Tx) WikiPage(ctx context.Context, communityID int64, slug string) (WikiPage, error) {
	return wikiPage(tx.tx.QueryRowContext(ctx, wikiPageQuery, communityID, slug), slug)
}

func wikiPage(row *sql.Row, slug string) (WikiPage, error) {
	p, err := scanWikiPage(row)
	if errors.Is(err, sql.ErrNoRows) {
		return WikiPage{}, ErrNotFound
	}
	if err != nil {
		return WikiPage{}, fmt.Errorf("wiki page %s: %w", slug, err)
	}
	return p, nil
}

// WikiPages lists a community's pages, most recently changed first.
func (s *Store) WikiPages(ctx context.Context, communityID int64, offset, limit int) ([]WikiPage, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+wikiPageColumns+` FROM wiki_pages WHERE community_id = ? ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?`, communityID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("wiki pages: %w", err)
	}
	defer rows.Close()
	var out []WikiPage
	for rows.Next() {
		p, err := scanWikiPage(rows)
		if err != nil {
			return nil, fmt.Errorf("wiki pages: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CountWikiPages counts a community's pages.
func (s *Store) CountWikiPages(ctx context.Context, communityID int64) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM wiki_pages WHERE community_id = ?`, communityID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count wiki pages: %w", err)
	}
	return n, nil
}

// SaveWikiRevision stores r as the next revision of the page (which it
// creates when p.ID is 0) and makes it current. The page must still be at
// revision base: a save over a newer revision than the one edited is
// ErrConflict. It returns the page as saved.
func (tx *Tx) SaveWikiRevision(ctx context.Context, p WikiPage, base int, r WikiRevision) (WikiPage, error) {
	if p.ID == 0 {
		err := tx.tx.QueryRowContext(ctx, `INSERT INTO wiki_pages (community_id, slug, iri, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			p.CommunityID, p.Slug, p.IRI, r.Title, toDB(r.CreatedAt), toDB(r.CreatedAt)).Scan(&p.ID)
		if err != nil {
			return WikiPage{}, fmt.Errorf("create wiki page %s: %w", p.Slug, mapError(err))
		}
		p.CreatedAt = r.CreatedAt
	}
	res, err := tx.tx.ExecContext(ctx, `UPDATE wiki_pages SET revision = revision + 1, title = ?, updated_at = ? WHERE id = ? AND revision = ?`,
		r.Title, toDB(r.CreatedAt), p.ID, base)
	if err != nil {
		return WikiPage{}, fmt.Errorf("save wiki page %s: %w", p.Slug, mapError(err))
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return WikiPage{}, ErrConflict
	}
	p.Revision, p.Title, p.UpdatedAt = base+1, r.Title, r.CreatedAt
	if _, err := tx.tx.ExecContext(ctx, `INSERT INTO wiki_revisions (page_id, number, title, body, html, summary, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.Revision, r.Title, r.Body, r.HTML, r.Summary, r.Author, toDB(r.CreatedAt)); err != nil {
		return WikiPage{}, fmt.Errorf("save revision of %s: %w", p.Slug, mapError(err))
	}
	return p, nil
}

// WikiRevision returns revision number n of a page, or ErrNotFound.
func (s *Store) WikiRevision(ctx context.Context, pageID int64, n int) (WikiRevision, error) {
	r, err := scanWikiRevision(s.read.QueryRowContext(ctx, `SELECT `+wikiRevisionColumns+` FROM wiki_revisions WHERE page_id = ? AND number = ?`, pageID, n))
	if errors.Is(err, sql.ErrNoRows) {
		return WikiRevision{}, ErrNotFound
	}
	if err != nil {
		return WikiRevision{}, fmt.Errorf("revision %d of page %d: %w", n, pageID, err)
	}
	return r, nil
}

// WikiRevisions lists a page's revisions, newest first, without their
// bodies' HTML.
func (s *Store) WikiRevisions(ctx context.Context, pageID int64) ([]WikiRevision, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, page_id, number, title, '', '', summary, author, created_at FROM wiki_revisions WHERE page_id = ? ORDER BY number DESC`, pageID)
	if err != nil {
		return nil, fmt.Errorf("revisions of page %d: %w", pageID, err)
	}
	defer rows.Close()
	var out []WikiRevision
	for rows.Next() {
		r, err := scanWikiRevision(rows)
		if err != nil {
			return nil, fmt.Errorf("revisions of page %d: %w", pageID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetWikiPolicy sets who may edit a community's wiki on the site.
func (tx *Tx) SetWikiPolicy(ctx context.Context, communityID int64, policy string) error {
	if _, err := tx.tx.ExecContext(ctx, `UPDATE communities SET wiki_policy = ? WHERE id = ?`, policy, communityID); err != nil {
		return fmt.Errorf("set wiki policy: %w", mapError(err))
	}
	return nil
}

// WikiPolicy returns who may edit a community's wiki on the site.
func (s *Store) WikiPolicy(ctx context.Context, communityID int64) (string, error) {
	var p string
	if err := s.read.QueryRowContext(ctx, `SELECT wiki_policy FROM communities WHERE id = ?`, communityID).Scan(&p); err != nil {
		return "", fmt.Errorf("wiki policy: %w", err)
	}
	return p, nil
}

// WikiRevisionTx returns revision number n of a page inside a transaction.
func (tx *Tx) WikiRevisionTx(ctx context.Context, pageID int64, n int) (WikiRevision, error) {
	r, err := scanWikiRevision(tx.tx.QueryRowContext(ctx, `SELECT `+wikiRevisionColumns+` FROM wiki_revisions WHERE page_id = ? AND number = ?`, pageID, n))
	if errors.Is(err, sql.ErrNoRows) {
		return WikiRevision{}, ErrNotFound
	}
	if err != nil {
		return WikiRevision{}, fmt.Errorf("revision %d of page %d: %w", n, pageID, err)
	}
	return r, nil
}

// WikiPageIRIByID returns the id of a page by row ID (search results).
func (s *Store) WikiPageIRIByID(ctx context.Context, id int64) (string, error) {
	var iri string
	err := s.read.QueryRowContext(ctx, `SELECT iri FROM wiki_pages WHERE id = ?`, id).Scan(&iri)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return iri, err
}
