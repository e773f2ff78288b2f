package storage

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns an engine's migrations in order. SQLite's start at 1.
// PostgreSQL's start with a baseline: its first file creates the schema as
// SQLite's migrations up to its number leave it (no PostgreSQL database
// existed before), and each later number is the same change as SQLite's.
func migrations(engine string) ([]migration, error) {
	dir := "migrations/" + engine
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", e.Name())
		}
		b, err := migrationFiles.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	if len(out) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	first := 1
	if engine == "postgres" {
		first = out[0].version
	}
	for i, m := range out {
		if m.version != first+i {
			return nil, fmt.Errorf("migration %s: want number %d", m.name, first+i)
		}
	}
	return out, nil
}

const createMigrationsTable = `
	CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	)`

// On PostgreSQL, times are BIGINT like every other integer column.
const createMigrationsTablePostgres = `
	CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at BIGINT NOT NULL
	)`

// Migrate applies every migration that has not been applied yet, each in its
// own transaction, and records it in schema_migrations. It reports how many
// were applied through the returned error only: nil means the schema is
// current.
func (s *Store) Migrate(ctx context.Context) error {
	_, err := s.MigrateCount(ctx)
	return err
}

// MigrateCount is Migrate that also returns the number of migrations applied.
func (s *Store) MigrateCount(ctx context.Context) (int, error) {
	ms, err := migrations(s.Engine())
	if err != nil {
		return 0, err
	}
	create := createMigrationsTable
	if s.pg {
		// Several processes may start at once: one migrates, the others
		// wait for it and then find nothing to do.
		unlock, err := s.migrationLock(ctx)
		if err != nil {
			return 0, err
		}
		defer unlock()
		create = createMigrationsTablePostgres
	}
	if _, err := s.write.ExecContext(ctx, create); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	applied := 0
	for _, m := range ms {
		err := s.InTx(ctx, func(tx *Tx) error {
			// A migration is done when it or a later one (a baseline) is.
			var n int
			if err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version >= ?`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, toDB(time.Now())); err != nil {
				return err
			}
			applied++
			return nil
		})
		if err != nil {
			return applied, fmt.Errorf("apply migration %s: %w", m.name, err)
		}
	}
	s.gated.Store(s.pg) // migration 0023 made the write gate
	return applied, nil
}

// Schema returns the SQL that creates every table and index, in a stable
// order, for the golden schema test (SQLite only).
func (s *Store) Schema(ctx context.Context) (string, error) {
	if s.pg {
		return "", errors.New("read schema: SQLite only")
	}
	rows, err := s.read.QueryContext(ctx, `SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type DESC, name`)
	if err != nil {
		return "", fmt.Errorf("read schema: %w", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			return "", fmt.Errorf("read schema: %w", err)
		}
		b.WriteString(q)
		b.WriteString(";\n")
	}
	return b.String(), rows.Err()
}

// SchemaVersion returns the number of the last applied migration.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// Tables returns the database's tables and their columns in order, leaving
// out the search index, whose form each engine has its own, the
// migrations' own table and the write gate, which holds no rows: what two
// engines' schemas must share, and what CopyDatabase copies.
func (s *Store) Tables(ctx context.Context) (map[string][]string, error) {
	query := `SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, c.cid`
	if s.pg {
		query = `SELECT table_name, column_name FROM information_schema.columns
			WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`
	}
	rows, err := s.read.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			return nil, fmt.Errorf("list tables: %w", err)
		}
		// The write gate holds no rows (commit.go); the search index has a
		// form of its own on each engine.
		if table == "schema_migrations" || table == "write_gate" || strings.HasPrefix(table, "search_index") {
			continue
		}
		out[table] = append(out[table], column)
	}
	return out, rows.Err()
}
