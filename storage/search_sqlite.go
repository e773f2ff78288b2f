package storage

// SQLite-only statements: full-text search with FTS5 (build tag
// sqlite_fts5). A PostgreSQL store would use tsvector here instead.

import (
	"context"
	"fmt"
	"strings"
	"unicode"
)

// Search document kinds.
const (
	SearchPost     = "post"
	SearchResource = "resource"
	SearchWiki     = "wiki"
)

// searchKindSlots is how many kinds of documents the search index can
// hold. A document's search row has rowid ref*searchKindSlots + the number
// of its kind (migration 0018): replacing or removing one is then a rowid
// lookup, not a scan of the UNINDEXED kind and ref columns.
const searchKindSlots = 8

// searchRowID is the rowid of a document's search row.
func searchRowID(kind string, ref int64) (int64, error) {
	var n int64
	switch kind {
	case SearchPost:
		n = 0
	case SearchResource:
		n = 1
	case SearchWiki:
		n = 2
	default:
		return 0, fmt.Errorf("unknown search document kind %q", kind)
	}
	return ref*searchKindSlots + n, nil
}

const (
	insertSearchQuery = `INSERT INTO search_index (rowid, kind, ref, community_id, title, body) VALUES (?, ?, ?, ?, ?, ?)`
	deleteSearchQuery = `DELETE FROM search_index WHERE rowid = ?`
)

// A transaction's search writes wait until the end of its batch (see
// commit.go): FTS5 writes its pending terms to disk at every savepoint,
// and every InTx call runs in one, so a search row written there cost a
// flush and a segment merge per post, ~0.25 ms on an index of a million
// posts (issue 13). Queued, they are written together just before the
// batch commits, in the same transaction, in the order they were made;
// the queue of a call that fails is dropped with the rest of its work.
// Nothing reads the search index inside a write transaction.

// searchOp is one queued write of the search index: a delete of rowID,
// then, when insert is set, an insert of the document.
type searchOp struct {
	rowID            int64
	insert           bool
	kind             string
	ref, communityID int64
	title, body      string
}

// IndexDocument adds or replaces a document of the search index when the
// transaction commits.
func (tx *Tx) IndexDocument(ctx context.Context, kind string, ref, communityID int64, title, body string) error {
	rowID, err := searchRowID(kind, ref)
	if err != nil {
		return err
	}
	tx.search = append(tx.search, searchOp{rowID: rowID, insert: true, kind: kind, ref: ref, communityID: communityID, title: title, body: body})
	return nil
}

// UnindexDocument removes a document from the search index when the
// transaction commits.
func (tx *Tx) UnindexDocument(ctx context.Context, kind string, ref int64) error {
	rowID, err := searchRowID(kind, ref)
	if err != nil {
		return err
	}
	tx.search = append(tx.search, searchOp{rowID: rowID, kind: kind, ref: ref})
	return nil
}

// writeSearch applies queued search writes in tx.
func writeSearch(ctx context.Context, tx *Tx, ops []searchOp) error {
	for _, op := range ops {
		if _, err := tx.exec(ctx, deleteSearchQuery, op.rowID); err != nil {
			return fmt.Errorf("unindex %s %d: %w", op.kind, op.ref, mapError(err))
		}
		if !op.insert {
			continue
		}
		if _, err := tx.exec(ctx, insertSearchQuery, op.rowID, op.kind, op.ref, op.communityID, op.title, op.body); err != nil {
			return fmt.Errorf("index %s %d: %w", op.kind, op.ref, mapError(err))
		}
	}
	return nil
}

// Hit is one search result.
type Hit struct {
	Kind        string
	Ref         int64
	CommunityID int64
	Title       string
	Snippet     string // plain text with the matches between [ and ]
}

// ftsQuery turns what a visitor typed into an FTS5 query that cannot be a
// syntax error: every word becomes a quoted prefix term, all required.
func ftsQuery(q string) string {
	var terms []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(terms) == 16 {
			break
		}
		terms = append(terms, `"`+w+`"*`)
	}
	return strings.Join(terms, " ")
}

// Search finds posts and resources matching q, best first; communityID 0
// searches the whole instance.
func (s *Store) Search(ctx context.Context, q string, communityID int64, limit int) ([]Hit, error) {
	fq := ftsQuery(q)
	if fq == "" {
		return nil, nil
	}
	query := `SELECT kind, ref, community_id, title, snippet(search_index, 4, '[', ']', '…', 24)
		FROM search_index WHERE search_index MATCH ?`
	args := []any{fq}
	if communityID != 0 {
		query += ` AND community_id = ?`
		args = append(args, communityID)
	}
	query += ` ORDER BY rank LIMIT ?`
	args = append(args, limit)
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", q, err)
	}
	defer rows.Close()
	var out []Hit
	for rows.Next() {
		var h Hit
		if err := rows.Scan(&h.Kind, &h.Ref, &h.CommunityID, &h.Title, &h.Snippet); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
