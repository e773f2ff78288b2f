package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Resource states.
const (
	ResourceProposed  = "proposed"
	ResourcePublished = "published"
	ResourceArchived  = "archived"
)

// Resource is an item of a community's shared repertoire.
type Resource struct {
	ID          int64
	CommunityID int64
	IRI         string
	Kind        string // link, document, story, tool, method
	Title       string
	Description string
	Tags        string // space-separated, lower case
	URL         string
	FileHash    string
	FileExt     string
	FileName    string
	FileType    string
	FileSize    int64
	AuthorIRI   string
	ProposedBy  string
	PublishedBy string
	SourceIRI   string // the remote post or document it came from
	State       string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	PublishedAt time.Time
}

const resourceColumns = `id, community_id, iri, kind, title, description, tags, url, file_hash, file_ext, file_name, file_type,
	file_size, author_iri, proposed_by, published_by, source_iri, state, created_at, updated_at, published_at`

func scanResource(row scanner) (Resource, error) {
	var r Resource
	var created, updated, published int64
	err := row.Scan(&r.ID, &r.CommunityID, &r.IRI, &r.Kind, &r.Title, &r.Description, &r.Tags, &r.URL, &r.FileHash, &r.FileExt,
		&r.FileName, &r.FileType, &r.FileSize, &r.AuthorIRI, &r.ProposedBy, &r.PublishedBy, &r.SourceIRI, &r.State,
		&created, &updated, &published)
	r.CreatedAt, r.UpdatedAt, r.PublishedAt = fromDB(created), fromDB(updated), fromDB(published)
	return r, err
}

const createResourceQuery = `
	INSERT INTO resources (community_id, iri, kind, title, description, tags, url, file_hash, file_ext, file_name, file_type,
		file_size, author_iri, proposed_by, published_by, source_iri, state, created_at, updated_at, published_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	RETURNING ` + resourceColumns

// CreateResource stores a resource; the same source in a community twice
// gives ErrConflict.
func (tx *Tx) CreateResource(ctx context.Context, r Resource) (Resource, error) {
	out, err := scanResource(tx.tx.QueryRowContext(ctx, createResourceQuery, r.CommunityID, r.IRI, r.Kind, r.Title, r.Description,
		r.Tags, r.URL, r.FileHash, r.FileExt, r.FileName, r.FileType, r.FileSize, r.AuthorIRI, r.ProposedBy, r.PublishedBy,
		r.SourceIRI, r.State, toDB(r.CreatedAt), toDB(r.CreatedAt), toDB(r.PublishedAt)))
	if err != nil {
		return Resource{}, fmt.Errorf("create resource %q: %w", r.Title, mapError(err))
	}
	return out, nil
}

const setResourceStateQuery = `UPDATE resources SET state = ?, published_by = ?, published_at = ?, updated_at = ? WHERE id = ?`

// SetResourceState moves a resource to state; publishedBy and publishedAt
// are kept as given.
func (tx *Tx) SetResourceState(ctx context.Context, r Resource) error {
	if _, err := tx.tx.ExecContext(ctx, setResourceStateQuery, r.State, r.PublishedBy, toDB(r.PublishedAt), toDB(r.UpdatedAt), r.ID); err != nil {
		return fmt.Errorf("set state of resource %d: %w", r.ID, mapError(err))
	}
	return nil
}

const resourceByIRIQuery = `SELECT ` + resourceColumns + ` FROM resources WHERE iri = ?`

// ResourceByIRI returns a resource, or ErrNotFound.
func (s *Store) ResourceByIRI(ctx context.Context, iri string) (Resource, error) {
	r, err := scanResource(s.read.QueryRowContext(ctx, resourceByIRIQuery, iri))
	if errors.Is(err, sql.ErrNoRows) {
		return Resource{}, ErrNotFound
	}
	if err != nil {
		return Resource{}, fmt.Errorf("resource %s: %w", iri, err)
	}
	return r, nil
}

const resourcesQuery = `SELECT ` + resourceColumns + ` FROM resources WHERE community_id = ? AND state = ?
	ORDER BY published_at DESC, id DESC LIMIT ? OFFSET ?`

// Resources lists a community's resources in one state, newest first.
func (s *Store) Resources(ctx context.Context, communityID int64, state string, offset, limit int) ([]Resource, error) {
	rows, err := s.read.QueryContext(ctx, resourcesQuery, communityID, state, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("resources: %w", err)
	}
	defer rows.Close()
	var out []Resource
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, fmt.Errorf("resources: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CountResources counts a community's resources in one state.
func (s *Store) CountResources(ctx context.Context, communityID int64, state string) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM resources WHERE community_id = ? AND state = ?`, communityID, state).Scan(&n); err != nil {
		return 0, fmt.Errorf("count resources: %w", err)
	}
	return n, nil
}

// ResourceIRIByID returns the IRI of a resource row, or ErrNotFound.
func (s *Store) ResourceIRIByID(ctx context.Context, id int64) (string, error) {
	var iri string
	err := s.read.QueryRowContext(ctx, `SELECT iri FROM resources WHERE id = ?`, id).Scan(&iri)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return iri, err
}
