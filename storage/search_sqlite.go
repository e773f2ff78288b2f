package storage

// SQLite-only statements: full-text search with FTS5 (build tag
// sqlite_fts5).

import (
	"context"
	"fmt"
	"strings"
)

// searchKindSlots is how many kinds of documents the search index can
// hold. A document's search row has rowid ref*searchKindSlots + the number
// of its kind (migration 0018): replacing or removing one is then a rowid
// lookup, not a scan of the UNINDEXED kind and ref columns.
const searchKindSlots = 8

// searchRowID is the rowid of a document's search row.
func searchRowID(kind string, ref int64) (int64, error) {
	n, err := searchKindNumber(kind)
	if err != nil {
		return 0, err
	}
	return ref*searchKindSlots + n, nil
}

const (
	insertSearchQuery = `INSERT INTO search_index (rowid, kind, ref, community_id, title, body) VALUES (?, ?, ?, ?, ?, ?)`
	deleteSearchQuery = `DELETE FROM search_index WHERE rowid = ?`
)

// writeSearchSQLite applies queued search writes in tx.
func writeSearchSQLite(ctx context.Context, tx *Tx, ops []searchOp) error {
	for _, op := range ops {
		rowID, err := searchRowID(op.kind, op.ref)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, deleteSearchQuery, rowID); err != nil {
			return fmt.Errorf("unindex %s %d: %w", op.kind, op.ref, mapError(err))
		}
		if !op.insert {
			continue
		}
		if _, err := tx.exec(ctx, insertSearchQuery, rowID, op.kind, op.ref, op.communityID, op.title, op.body); err != nil {
			return fmt.Errorf("index %s %d: %w", op.kind, op.ref, mapError(err))
		}
	}
	return nil
}

// ftsQuery turns search terms into an FTS5 query: every word a quoted
// prefix term, all required.
func ftsQuery(terms []string) string {
	q := make([]string, len(terms))
	for i, w := range terms {
		q[i] = `"` + w + `"*`
	}
	return strings.Join(q, " ")
}

// searchQuerySQLite is the search statement and its arguments.
func searchQuerySQLite(terms []string, communityID int64, limit int) (string, []any) {
	query := `SELECT kind, ref, community_id, title, snippet(search_index, 4, '[', ']', '…', 24)
		FROM search_index WHERE search_index MATCH ?`
	args := []any{ftsQuery(terms)}
	if communityID != 0 {
		query += ` AND community_id = ?`
		args = append(args, communityID)
	}
	query += ` ORDER BY rank LIMIT ?`
	return query, append(args, limit)
}
