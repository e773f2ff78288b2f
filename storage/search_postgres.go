package storage

// PostgreSQL-only statements: full-text search with tsvector and a GIN
// index (migrations/postgres).

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// A batch's search writes are two statements whatever their number, the
// documents passed as JSON: one statement a document cost a round trip
// each, two per post, in the one writer's transaction (issue 13).
const (
	unindexPostgresQuery = `
		DELETE FROM search_index WHERE (kind, ref) IN (
			SELECT kind, ref FROM json_to_recordset(CAST(? AS json)) AS x (kind TEXT, ref BIGINT))`
	indexPostgresQuery = `
		INSERT INTO search_index (kind, ref, community_id, title, body, document)
		SELECT kind, ref, community_id, title, body,
			setweight(to_tsvector('simple', folded_title), 'A') || setweight(to_tsvector('simple', folded_body), 'B')
		FROM json_to_recordset(CAST(? AS json))
			AS x (kind TEXT, ref BIGINT, community_id BIGINT, title TEXT, body TEXT, folded_title TEXT, folded_body TEXT)
		ON CONFLICT (kind, ref) DO UPDATE SET community_id = excluded.community_id, title = excluded.title,
			body = excluded.body, document = excluded.document`
)

// searchRow is a document as indexPostgresQuery and unindexPostgresQuery
// read it.
type searchRow struct {
	Kind        string `json:"kind"`
	Ref         int64  `json:"ref"`
	CommunityID int64  `json:"community_id"`
	Title       string `json:"title"`
	Body        string `json:"body"`
	FoldedTitle string `json:"folded_title"`
	FoldedBody  string `json:"folded_body"`
}

// writeSearchPostgres applies ops in order: the last op of each document
// decides whether it is indexed, with what, or removed.
func writeSearchPostgres(ctx context.Context, tx *Tx, ops []searchOp) error {
	type key struct {
		kind string
		ref  int64
	}
	last := make(map[key]int, len(ops))
	for i, op := range ops {
		last[key{op.kind, op.ref}] = i
	}
	var index, unindex []searchRow
	for i, op := range ops {
		if last[key{op.kind, op.ref}] != i {
			continue
		}
		if !op.insert {
			unindex = append(unindex, searchRow{Kind: op.kind, Ref: op.ref})
			continue
		}
		index = append(index, searchRow{Kind: op.kind, Ref: op.ref, CommunityID: op.communityID, Title: op.title, Body: op.body,
			FoldedTitle: foldAccents(op.title), FoldedBody: foldAccents(op.body)})
	}
	for _, w := range []struct {
		what  string
		query string
		rows  []searchRow
	}{{"unindex", unindexPostgresQuery, unindex}, {"index", indexPostgresQuery, index}} {
		if len(w.rows) == 0 {
			continue
		}
		docs, err := json.Marshal(w.rows)
		if err != nil {
			return fmt.Errorf("%s %d documents: %w", w.what, len(w.rows), err)
		}
		if _, err := tx.exec(ctx, w.query, string(docs)); err != nil {
			return fmt.Errorf("%s %d documents: %w", w.what, len(w.rows), mapError(err))
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
