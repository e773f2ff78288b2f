package storage

// PostgreSQL-only statements: full-text search with tsvector and a GIN
// index (migrations/postgres).

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

const (
	deleteSearchPostgresQuery = `DELETE FROM search_index WHERE kind = ? AND ref = ?`
	insertSearchPostgresQuery = `
		INSERT INTO search_index (kind, ref, community_id, title, body, document)
		VALUES (?, ?, ?, ?, ?, setweight(to_tsvector('simple', ?), 'A') || setweight(to_tsvector('simple', ?), 'B'))`
)

// writeSearchPostgres applies queued search writes in tx.
func writeSearchPostgres(ctx context.Context, tx *Tx, ops []searchOp) error {
	for _, op := range ops {
		if _, err := tx.exec(ctx, deleteSearchPostgresQuery, op.kind, op.ref); err != nil {
			return fmt.Errorf("unindex %s %d: %w", op.kind, op.ref, mapError(err))
		}
		if !op.insert {
			continue
		}
		if _, err := tx.exec(ctx, insertSearchPostgresQuery, op.kind, op.ref, op.communityID, op.title, op.body,
			foldAccents(op.title), foldAccents(op.body)); err != nil {
			return fmt.Errorf("index %s %d: %w", op.kind, op.ref, mapError(err))
		}
	}
	return nil
}

// foldAccents removes combining marks (é → e), as SQLite's tokenizer does
// with remove_diacritics; PostgreSQL's needs the unaccent extension, which
// a database owner cannot always install.
func foldAccents(s string) string {
	out, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
	if err != nil {
		return s
	}
	return out
}

// searchQueryPostgres is the search statement and its arguments: every
// term a prefix, all required, best rank first.
func searchQueryPostgres(terms []string, communityID int64, limit int) (string, []any) {
	q := make([]string, len(terms))
	for i, w := range terms {
		q[i] = foldAccents(strings.ToLower(w)) + ":*"
	}
	query := `SELECT kind, ref, community_id, title,
			ts_headline('simple', body, q, 'StartSel=[, StopSel=], MaxWords=24, MinWords=8')
		FROM search_index, to_tsquery('simple', ?) AS q
		WHERE document @@ q`
	args := []any{strings.Join(q, " & ")}
	if communityID != 0 {
		query += ` AND community_id = ?`
		args = append(args, communityID)
	}
	query += ` ORDER BY ts_rank(document, q) DESC, ref DESC LIMIT ?`
	return query, append(args, limit)
}
