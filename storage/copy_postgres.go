package storage

// CopyDatabase into PostgreSQL: COPY through pgx's own connection, in one
// transaction.

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The search index's documents are copied into a temporary table, each
// with its title and body with accents folded (in Go, foldAccents), and
// from there into search_index with the document computed as
// insertSearchPostgresQuery computes it.
const (
	createCopySearchQuery = `
		CREATE TEMPORARY TABLE copy_search (
			kind TEXT NOT NULL,
			ref BIGINT NOT NULL,
			community_id BIGINT NOT NULL,
			title TEXT NOT NULL,
			body TEXT NOT NULL,
			folded_title TEXT NOT NULL,
			folded_body TEXT NOT NULL
		) ON COMMIT DROP`
	insertCopiedSearchQuery = `
		INSERT INTO search_index (kind, ref, community_id, title, body, document)
		SELECT kind, ref, community_id, title, body,
			setweight(to_tsvector('simple', folded_title), 'A') || setweight(to_tsvector('simple', folded_body), 'B')
		FROM copy_search`
)

// identityColumnsQuery lists the columns whose values a sequence gives.
const identityColumnsQuery = `
	SELECT table_name, column_name FROM information_schema.columns
	WHERE table_schema = current_schema() AND is_identity = 'YES'
	ORDER BY table_name`

// copyLockTimeout bounds the wait for the tables' lock: a target someone
// writes to is no target for a copy.
const copyLockTimeout = "10s"

// copyIntoPostgres copies src into to, a PostgreSQL store, in one
// transaction on one connection of its own, then analyzes the database.
func copyIntoPostgres(ctx context.Context, src *sqlTx, to *Store, tables []copyTable, cfg copyConfig) (map[string]int64, error) {
	conn, err := to.write.DB.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy database: %w", err)
	}
	defer conn.Close()
	var copied map[string]int64
	err = conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy database: the connection is a %T, not pgx's", driverConn)
		}
		var err error
		copied, err = copyPostgresTx(ctx, src, c.Conn(), tables, cfg)
		return err
	})
	if err != nil {
		return nil, err
	}
	// The planner knows nothing of rows COPY wrote until autovacuum gets
	// to them; the first requests after a move should not wait for it.
	if _, err := conn.ExecContext(ctx, `ANALYZE`); err != nil {
		return nil, fmt.Errorf("copy database: analyze: %w", err)
	}
	return copied, nil
}

func copyPostgresTx(ctx context.Context, src *sqlTx, pc *pgx.Conn, tables []copyTable, cfg copyConfig) (map[string]int64, error) {
	tx, err := pc.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy database: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) // after Commit, it does nothing
	names := make([]string, 0, len(tables)+1)
	for _, t := range tables {
		names = append(names, t.name)
	}
	names = append(names, searchTable)
	// Nobody writes to the tables while they are found empty and filled;
	// readers may read them.
	if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '`+copyLockTimeout+`'`); err != nil {
		return nil, fmt.Errorf("copy database: %w", err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+quoteIdents(names)+` IN EXCLUSIVE MODE`); err != nil {
		return nil, fmt.Errorf("copy database: lock the target's tables (is a coppice serve running on it?): %w", err)
	}
	for _, name := range names {
		var has bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+quoteIdent(name)+`)`).Scan(&has); err != nil {
			return nil, fmt.Errorf("copy database: look into %s: %w", name, err)
		}
		if has {
			return nil, fmt.Errorf("%w: table %s has rows; copy only into a new, empty database", ErrNotEmpty, name)
		}
	}
	copied := map[string]int64{}
	for _, t := range tables {
		start := time.Now()
		rows, err := src.QueryContext(ctx, selectAllQuery(t))
		if err != nil {
			return nil, fmt.Errorf("copy database: read %s: %w", t.name, err)
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, newRowScanner(rows, len(t.columns)))
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("copy database: copy %s: %w", t.name, err)
		}
		copied[t.name] = n
		cfg.progress(t.name, n, time.Since(start))
	}
	start := time.Now()
	n, err := copySearchPostgres(ctx, src, tx)
	if err != nil {
		return nil, err
	}
	copied[searchTable] = n
	cfg.progress(searchTable, n, time.Since(start))
	if err := moveSequences(ctx, tx); err != nil {
		return nil, err
	}
	inTarget := map[string]int64{}
	for _, name := range names {
		var n int64
		if err := tx.QueryRow(ctx, countQuery(name)).Scan(&n); err != nil {
			return nil, fmt.Errorf("copy database: count %s in the target: %w", name, err)
		}
		inTarget[name] = n
	}
	if err := checkCounts(ctx, src, copied, inTarget); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("copy database: commit: %w", err)
	}
	return copied, nil
}

// copySearchPostgres copies the source's search documents into
// search_index and returns how many it copied.
func copySearchPostgres(ctx context.Context, src *sqlTx, tx pgx.Tx) (int64, error) {
	if _, err := tx.Exec(ctx, createCopySearchQuery); err != nil {
		return 0, fmt.Errorf("copy database: search index: %w", err)
	}
	rows, err := src.QueryContext(ctx, selectSearchQuery)
	if err != nil {
		return 0, fmt.Errorf("copy database: read the search index: %w", err)
	}
	defer rows.Close()
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"copy_search"},
		[]string{"kind", "ref", "community_id", "title", "body", "folded_title", "folded_body"}, &foldingSearchSource{rows: rows})
	if err != nil {
		return 0, fmt.Errorf("copy database: copy the search index: %w", err)
	}
	tag, err := tx.Exec(ctx, insertCopiedSearchQuery)
	if err != nil {
		return 0, fmt.Errorf("copy database: index the search documents: %w", err)
	}
	return tag.RowsAffected(), nil
}

// foldingSearchSource reads search documents for copy_search.
type foldingSearchSource struct {
	rows   *sql.Rows
	values []any
	err    error
}

func (f *foldingSearchSource) Next() bool {
	if !f.rows.Next() {
		return false
	}
	d, err := scanSearchDocument(f.rows)
	if err != nil {
		f.err = err
		return false
	}
	f.values = append(f.values[:0], d.kind, d.ref, d.communityID, d.title, d.body, foldAccents(d.title), foldAccents(d.body))
	return true
}

func (f *foldingSearchSource) Values() ([]any, error) { return f.values, nil }

func (f *foldingSearchSource) Err() error {
	if f.err != nil {
		return f.err
	}
	return f.rows.Err()
}

// moveSequences sets each identity column's sequence to the largest id
// copied, so the next row gets the id after it; a table left empty keeps
// its sequence at the start.
func moveSequences(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, identityColumnsQuery)
	if err != nil {
		return fmt.Errorf("copy database: list id sequences: %w", err)
	}
	type column struct{ table, name string }
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.table, &c.name); err != nil {
			rows.Close()
			return fmt.Errorf("copy database: list id sequences: %w", err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("copy database: list id sequences: %w", err)
	}
	for _, c := range cols {
		if !slices.Contains(copyOrder, c.table) {
			continue
		}
		// setval of NULL (an empty table) does nothing.
		q := `SELECT setval(pg_get_serial_sequence($1, $2), max(` + quoteIdent(c.name) + `)) FROM ` + quoteIdent(c.table)
		if _, err := tx.Exec(ctx, q, quoteIdent(c.table), c.name); err != nil {
			return fmt.Errorf("copy database: move the id sequence of %s: %w", c.table, err)
		}
	}
	return nil
}
