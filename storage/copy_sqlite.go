package storage

// CopyDatabase into SQLite: prepared inserts in one write transaction.

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// copyIntoSQLite copies src into to, an SQLite store, in one transaction.
func copyIntoSQLite(ctx context.Context, src *sqlTx, to *Store, tables []copyTable, cfg copyConfig) (map[string]int64, error) {
	var copied map[string]int64
	err := to.InTx(ctx, func(tx *Tx) error {
		copied = map[string]int64{}
		names := make([]string, 0, len(tables)+1)
		for _, t := range tables {
			names = append(names, t.name)
		}
		names = append(names, searchTable)
		for _, name := range names {
			var has bool
			if err := tx.tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM `+quoteIdent(name)+`)`).Scan(&has); err != nil {
				return fmt.Errorf("copy database: look into %s: %w", name, err)
			}
			if has {
				return fmt.Errorf("%w: table %s has rows; copy only into a new, empty database", ErrNotEmpty, name)
			}
		}
		for _, t := range tables {
			start := time.Now()
			n, err := copySQLiteTable(ctx, src, tx, t)
			if err != nil {
				return err
			}
			copied[t.name] = n
			cfg.progress(t.name, n, time.Since(start))
		}
		start := time.Now()
		n, err := copySearchSQLite(ctx, src, tx)
		if err != nil {
			return err
		}
		copied[searchTable] = n
		cfg.progress(searchTable, n, time.Since(start))
		inTarget := map[string]int64{}
		for _, name := range names {
			var n int64
			if err := tx.tx.QueryRowContext(ctx, countQuery(name)).Scan(&n); err != nil {
				return fmt.Errorf("copy database: count %s in the target: %w", name, err)
			}
			inTarget[name] = n
		}
		return checkCounts(ctx, src, copied, inTarget)
	})
	if err != nil {
		return nil, err
	}
	return copied, nil
}

// copySQLiteTable copies one table's rows from src into tx.
func copySQLiteTable(ctx context.Context, src *sqlTx, tx *Tx, t copyTable) (int64, error) {
	insert := `INSERT INTO ` + quoteIdent(t.name) + ` (` + quoteIdents(t.columns) + `) VALUES (` +
		strings.TrimSuffix(strings.Repeat("?, ", len(t.columns)), ", ") + `)`
	st, err := tx.tx.PrepareContext(ctx, insert)
	if err != nil {
		return 0, fmt.Errorf("copy database: copy %s: %w", t.name, err)
	}
	defer st.Close()
	rows, err := src.QueryContext(ctx, selectAllQuery(t))
	if err != nil {
		return 0, fmt.Errorf("copy database: read %s: %w", t.name, err)
	}
	defer rows.Close()
	r := newRowScanner(rows, len(t.columns))
	var n int64
	for r.Next() {
		if _, err := st.ExecContext(ctx, r.values...); err != nil {
			return 0, fmt.Errorf("copy database: copy %s: %w", t.name, err)
		}
		n++
	}
	if err := r.Err(); err != nil {
		return 0, fmt.Errorf("copy database: read %s: %w", t.name, err)
	}
	return n, nil
}

// copySearchSQLite copies the source's search documents into the FTS5
// index, each at the rowid of its kind and ref (search_sqlite.go).
func copySearchSQLite(ctx context.Context, src *sqlTx, tx *Tx) (int64, error) {
	st, err := tx.tx.PrepareContext(ctx, insertSearchQuery)
	if err != nil {
		return 0, fmt.Errorf("copy database: search index: %w", err)
	}
	defer st.Close()
	rows, err := src.QueryContext(ctx, selectSearchQuery)
	if err != nil {
		return 0, fmt.Errorf("copy database: read the search index: %w", err)
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		d, err := scanSearchDocument(rows)
		if err != nil {
			return 0, fmt.Errorf("copy database: read the search index: %w", err)
		}
		rowID, err := searchRowID(d.kind, d.ref)
		if err != nil {
			return 0, fmt.Errorf("copy database: search index: %w", err)
		}
		if _, err := st.ExecContext(ctx, rowID, d.kind, d.ref, d.communityID, d.title, d.body); err != nil {
			return 0, fmt.Errorf("copy database: copy the search index: %w", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("copy database: read the search index: %w", err)
	}
	return n, nil
}
