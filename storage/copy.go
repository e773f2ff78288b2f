package storage

// Copying a whole database from one store into another, empty one: an
// SQLite instance into PostgreSQL when a community outgrows one machine
// (coppice migrate-data), a PostgreSQL database into an SQLite file as its
// backup (coppice backup). The engine that is written to has its own file:
// copy_postgres.go, copy_sqlite.go.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// ErrNotEmpty is returned by CopyDatabase when the target database has
// rows already.
var ErrNotEmpty = errors.New("target database is not empty")

// copyOrder lists every table CopyDatabase copies, each after the tables
// its foreign keys reference: both engines check references at once, row
// by row. A new table goes here too (TestCopyOrderCoversEveryTable and
// TestCopyOrderFollowsForeignKeys say where).
var copyOrder = []string{
	"actors",
	"admins",
	"audit_log",
	"communities",
	"bans",
	"contributions",
	"decisions",
	"decision_options",
	"decision_votes",
	"delivery_hours",
	"domain_policies",
	"follows",
	"held_posts",
	"host_software",
	"hosts",
	"inbox_activities",
	"instance",
	"json_contexts",
	"login_failures",
	"meetings",
	"member_sessions",
	"mod_log",
	"oauth_apps",
	"outbox_activities",
	"deliveries",
	"fan_outs",
	"queue_depth_hours",
	"related",
	"reports",
	"resources",
	"rsvps",
	"sessions",
	"settings",
	"shares",
	"signin_requests",
	"stewards",
	"threads",
	"posts",
	"votes",
	"wiki_pages",
	"wiki_revisions",
}

// searchTable is the search index: each engine has its own form of it
// (search_sqlite.go, search_postgres.go), so it is copied apart from the
// tables of copyOrder, by its document columns.
const searchTable = "search_index"

// copyTable is one table to copy and its columns.
type copyTable struct {
	name    string
	columns []string
}

// CopyOption changes what CopyDatabase does.
type CopyOption func(*copyConfig)

type copyConfig struct {
	progress func(table string, rows int64, took time.Duration)
}

// CopyProgress makes CopyDatabase call fn after each table it copied, with
// the table's number of rows and how long it took.
func CopyProgress(fn func(table string, rows int64, took time.Duration)) CopyOption {
	return func(c *copyConfig) { c.progress = fn }
}

// CopyDatabase copies every row of from into to, keys and all: every
// table, with the ids of its rows, and the search index in to's own form.
// Both stores must be at the same schema version and to must have no row
// in any table (ErrNotEmpty). It reads from in one read transaction, a
// consistent snapshot even while a server writes to it, and writes to in
// one transaction, which it commits only once every table has as many
// rows in to as in that snapshot: a copy that fails leaves to empty. Into
// PostgreSQL it copies with COPY, builds each table's secondary indexes
// after its rows, moves each id sequence past the copied ids and, after
// the commit, analyzes the database. It returns each table's number of
// rows, the search index's under "search_index".
func CopyDatabase(ctx context.Context, from, to *Store, opts ...CopyOption) (map[string]int64, error) {
	var cfg copyConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.progress == nil {
		cfg.progress = func(string, int64, time.Duration) {}
	}
	tables, err := copyTables(ctx, from, to)
	if err != nil {
		return nil, err
	}
	src, err := from.beginSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer src.Rollback() // a read transaction: nothing to keep
	if to.pg {
		return copyIntoPostgres(ctx, src, to, tables, cfg)
	}
	return copyIntoSQLite(ctx, src, to, tables, cfg)
}

// copyTables checks that from and to have the same schema and returns the
// tables to copy in copyOrder.
func copyTables(ctx context.Context, from, to *Store) ([]copyTable, error) {
	fv, err := from.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy database: source: %w", err)
	}
	tv, err := to.SchemaVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy database: target: %w", err)
	}
	if fv != tv {
		return nil, fmt.Errorf("copy database: the source is at schema version %d, the target at %d: open both with the same coppice", fv, tv)
	}
	ft, err := from.Tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy database: source: %w", err)
	}
	tt, err := to.Tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy database: target: %w", err)
	}
	for name := range ft {
		if !slices.Contains(copyOrder, name) {
			return nil, fmt.Errorf("copy database: table %s is not in storage's copyOrder", name)
		}
	}
	var out []copyTable
	for _, name := range copyOrder {
		fc, tc := ft[name], tt[name]
		if len(fc) == 0 || len(tc) == 0 {
			return nil, fmt.Errorf("copy database: table %s missing from the source or the target", name)
		}
		if !sameColumns(fc, tc) {
			return nil, fmt.Errorf("copy database: table %s has columns %v in the source, %v in the target", name, fc, tc)
		}
		out = append(out, copyTable{name: name, columns: tc})
	}
	return out, nil
}

// sameColumns reports whether a and b name the same columns, in any order.
func sameColumns(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// beginSnapshot starts the read transaction CopyDatabase reads the source
// in. On SQLite every read of one transaction sees the database as its
// first read found it (WAL); PostgreSQL needs REPEATABLE READ for that.
func (s *Store) beginSnapshot(ctx context.Context) (*sqlTx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if s.pg {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("copy database: begin reading the source: %w", err)
	}
	return tx, nil
}

// quoteIdent quotes a table or column name for either engine. The names
// come from copyOrder and the schema, never from input; quoting keeps
// columns called by, key or position from reading as keywords.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func quoteIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// selectAllQuery reads every row of a table, its columns in the order
// given.
func selectAllQuery(t copyTable) string {
	return `SELECT ` + quoteIdents(t.columns) + ` FROM ` + quoteIdent(t.name)
}

// selectSearchQuery reads the search index's documents: the columns both
// engines' forms of it share.
const selectSearchQuery = `SELECT kind, ref, community_id, title, body FROM search_index`

// countQuery counts a table's rows.
func countQuery(table string) string {
	return `SELECT COUNT(*) FROM ` + quoteIdent(table)
}

// rowScanner reads rows of one table, any columns, into values.
type rowScanner struct {
	rows   *sql.Rows
	values []any
	ptrs   []any
	err    error
}

func newRowScanner(rows *sql.Rows, columns int) *rowScanner {
	r := &rowScanner{rows: rows, values: make([]any, columns), ptrs: make([]any, columns)}
	for i := range r.values {
		r.ptrs[i] = &r.values[i]
	}
	return r
}

// Next reads the next row into r.values; it reports false at the end and
// on an error, which Err returns.
func (r *rowScanner) Next() bool {
	if !r.rows.Next() {
		return false
	}
	if err := r.rows.Scan(r.ptrs...); err != nil {
		r.err = err
		return false
	}
	return true
}

// Values returns the row Next read; the slice is reused by the next call.
func (r *rowScanner) Values() ([]any, error) { return r.values, nil }

func (r *rowScanner) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

// searchDocument is one document of the search index.
type searchDocument struct {
	kind             string
	ref, communityID int64
	title, body      string
}

func scanSearchDocument(rows *sql.Rows) (searchDocument, error) {
	var d searchDocument
	err := rows.Scan(&d.kind, &d.ref, &d.communityID, &d.title, &d.body)
	return d, err
}

// checkCounts compares, table by table, the source's count of rows in the
// snapshot the copy read with the rows copied and the rows the target's
// transaction now holds.
func checkCounts(ctx context.Context, src *sqlTx, copied, inTarget map[string]int64) error {
	var bad []string
	for table, n := range copied {
		var want int64
		if err := src.QueryRowContext(ctx, countQuery(table)).Scan(&want); err != nil {
			return fmt.Errorf("copy database: count %s in the source: %w", table, err)
		}
		if n != want || inTarget[table] != want {
			bad = append(bad, fmt.Sprintf("%s: %d rows in the source, %d copied, %d in the target", table, want, n, inTarget[table]))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("copy database: row counts differ, nothing copied: %s", strings.Join(bad, "; "))
	}
	return nil
}

// CountRows counts the rows of every table CopyDatabase copies, the
// search index's under "search_index".
func (s *Store) CountRows(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	for _, table := range append(slices.Clone(copyOrder), searchTable) {
		var n int64
		if err := s.read.QueryRowContext(ctx, countQuery(table)).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", table, err)
		}
		out[table] = n
	}
	return out, nil
}
