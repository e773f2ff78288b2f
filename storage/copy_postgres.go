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
// uses is no target for a copy.
const copyLockTimeout = "10s"

// copyIndexMemory is the memory each index build of a copy may sort in
// (PostgreSQL's default, 64 MB, makes the search index's GIN build spill).
const copyIndexMemory = "256MB"

// secondaryIndexesQuery lists a table's indexes that back no constraint
// (no primary key, no UNIQUE constraint), with the statements that create
// them.
const secondaryIndexesQuery = `
	SELECT i.indexname, i.indexdef FROM pg_indexes i
	WHERE i.schemaname = current_schema() AND i.tablename = $1
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)
	ORDER BY i.indexname`

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
	// Nobody uses the tables while they are found empty and filled.
	for _, q := range []string{
		`SET LOCAL lock_timeout = '` + copyLockTimeout + `'`,
		`SET LOCAL maintenance_work_mem = '` + copyIndexMemory + `'`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("copy database: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+quoteIdents(names)+` IN ACCESS EXCLUSIVE MODE`); err != nil {
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
		n, err := withoutIndexes(ctx, tx, t.name, func() (int64, error) {
			rows, err := src.QueryContext(ctx, selectAllQuery(t))
			if err != nil {
				return 0, fmt.Errorf("copy database: read %s: %w", t.name, err)
			}
			defer rows.Close()
			n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.columns, newRowScanner(rows, len(t.columns)))
			if err != nil {
				return 0, fmt.Errorf("copy database: copy %s: %w", t.name, err)
			}
			return n, nil
		})
		if err != nil {
			return nil, err
		}
		copied[t.name] = n
		cfg.progress(t.name, n, time.Since(start))
	}
	start := time.Now()
	n, err := withoutIndexes(ctx, tx, searchTable, func() (int64, error) { return copySearchPostgres(ctx, src, tx) })
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

// withoutIndexes runs fill, which fills the empty table, with the table's
// secondary indexes dropped, and then builds them again from their own
// definitions: one sorted build of an index is much quicker than a
// million inserts into it, above all the search index's GIN ("Populating
// a Database" in PostgreSQL's manual). The indexes behind its primary key
// and UNIQUE constraints stay, so the copy still checks them.
func withoutIndexes(ctx context.Context, tx pgx.Tx, table string, fill func() (int64, error)) (int64, error) {
	rows, err := tx.Query(ctx, secondaryIndexesQuery, table)
	if err != nil {
		return 0, fmt.Errorf("copy database: list the indexes of %s: %w", table, err)
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return 0, fmt.Errorf("copy database: list the indexes of %s: %w", table, err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("copy database: list the indexes of %s: %w", table, err)
	}
	if len(names) > 0 {
		if _, err := tx.Exec(ctx, `DROP INDEX `+quoteIdents(names)); err != nil {
			return 0, fmt.Errorf("copy database: drop the indexes of %s for the copy: %w", table, err)
		}
	}
	n, err := fill()
	if err != nil {
		return 0, err
	}
	for i, def := range defs {
		if _, err := tx.Exec(ctx, def); err != nil {
			return 0, fmt.Errorf("copy database: build index %s again: %w", names[i], err)
		}
	}
	return n, nil
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
