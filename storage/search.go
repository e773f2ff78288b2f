package storage

// Full-text search, the part both engines share; search_sqlite.go and
// search_postgres.go hold each engine's own statements.

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

// searchKindNumber numbers the kinds of search documents.
func searchKindNumber(kind string) (int64, error) {
	switch kind {
	case SearchPost:
		return 0, nil
	case SearchResource:
		return 1, nil
	case SearchWiki:
		return 2, nil
	}
	return 0, fmt.Errorf("unknown search document kind %q", kind)
}

// A transaction's search writes wait until the end of its batch (see
// commit.go): FTS5 writes its pending terms to disk at every savepoint,
// and every InTx call runs in one, so a search row written there cost a
// flush and a segment merge per post, ~0.25 ms on an index of a million
// posts (issue 13). Queued, they are written together just before the
// batch commits, in the same transaction, in the order they were made;
// the queue of a call that fails is dropped with the rest of its work.
// Nothing reads the search index inside a write transaction.

// searchOp is one queued write of the search index: a delete of the
// document, then, when insert is set, an insert of it.
type searchOp struct {
	insert           bool
	kind             string
	ref, communityID int64
	title, body      string
}

// IndexDocument adds or replaces a document of the search index when the
// transaction commits.
func (tx *Tx) IndexDocument(ctx context.Context, kind string, ref, communityID int64, title, body string) error {
	if _, err := searchKindNumber(kind); err != nil {
		return err
	}
	tx.search = append(tx.search, searchOp{insert: true, kind: kind, ref: ref, communityID: communityID, title: title, body: body})
	return nil
}

// UnindexDocument removes a document from the search index when the
// transaction commits.
func (tx *Tx) UnindexDocument(ctx context.Context, kind string, ref int64) error {
	if _, err := searchKindNumber(kind); err != nil {
		return err
	}
	tx.search = append(tx.search, searchOp{kind: kind, ref: ref})
	return nil
}

// writeSearch applies queued search writes in tx.
func writeSearch(ctx context.Context, tx *Tx, ops []searchOp) error {
	if tx.tx.pg {
		return writeSearchPostgres(ctx, tx, ops)
	}
	return writeSearchSQLite(ctx, tx, ops)
}

// searchTerms splits what a visitor typed into at most 16 words of
// letters and digits: what is left cannot be a syntax error of either
// engine's query language.
func searchTerms(q string) []string {
	var terms []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(terms) == 16 {
			break
		}
		terms = append(terms, w)
	}
	return terms
}

// Search finds posts and resources matching q, best first; communityID 0
// searches the whole instance.
func (s *Store) Search(ctx context.Context, q string, communityID int64, limit int) ([]Hit, error) {
	terms := searchTerms(q)
	if len(terms) == 0 {
		return nil, nil
	}
	query, args := searchQuerySQLite(terms, communityID, limit)
	if s.pg {
		query, args = searchQueryPostgres(terms, communityID, limit)
	}
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

// Hit is one search result.
type Hit struct {
	Kind        string
	Ref         int64
	CommunityID int64
	Title       string
	Snippet     string // plain text with the matches between [ and ]
}
