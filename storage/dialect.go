package storage

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
)

// The package's SQL is written once, in the dialect both engines share,
// with SQLite's parameters (? and ?N). On PostgreSQL every statement goes
// through toPostgres on its way to the driver: that is the one place the
// two dialects differ for ordinary statements. What differs more than that
// (search, backups, claims) lives in the engine's own file: *_sqlite.go,
// *_postgres.go.

// sqlDB is a connection pool that speaks the engine's dialect.
type sqlDB struct {
	*sql.DB
	pg bool
}

// sqlTx is a transaction that speaks the engine's dialect.
type sqlTx struct {
	*sql.Tx
	pg bool
	// retry is set when a statement failed because PostgreSQL could not
	// serialize the transaction: the whole transaction may be run again.
	retry bool
}

func (db *sqlDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if db.pg {
		query, args = toPostgres(query), pgArgs(args)
	}
	return db.DB.ExecContext(ctx, query, args...)
}

func (db *sqlDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if db.pg {
		query, args = toPostgres(query), pgArgs(args)
	}
	return db.DB.QueryContext(ctx, query, args...)
}

func (db *sqlDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if db.pg {
		query, args = toPostgres(query), pgArgs(args)
	}
	return db.DB.QueryRowContext(ctx, query, args...)
}

func (db *sqlDB) PrepareContext(ctx context.Context, query string) (*sqlStmt, error) {
	if db.pg {
		query = toPostgres(query)
	}
	st, err := db.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &sqlStmt{Stmt: st, pg: db.pg}, nil
}

// BeginTx starts a transaction in the engine's dialect.
func (db *sqlDB) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sqlTx, error) {
	tx, err := db.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &sqlTx{Tx: tx, pg: db.pg}, nil
}

func (tx *sqlTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if tx.pg {
		query, args = toPostgres(query), pgArgs(args)
	}
	res, err := tx.Tx.ExecContext(ctx, query, args...)
	tx.note(err)
	return res, err
}

func (tx *sqlTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if tx.pg {
		query, args = toPostgres(query), pgArgs(args)
	}
	rows, err := tx.Tx.QueryContext(ctx, query, args...)
	tx.note(err)
	return rows, err
}

// QueryRowContext runs a query for one row. A serialization failure of
// PostgreSQL shows only when the row is scanned; the transaction is then
// aborted, and its next statement or its commit fails the same way.
func (tx *sqlTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if tx.pg {
		query, args = toPostgres(query), pgArgs(args)
	}
	return tx.Tx.QueryRowContext(ctx, query, args...)
}

func (tx *sqlTx) PrepareContext(ctx context.Context, query string) (*sqlStmt, error) {
	if tx.pg {
		query = toPostgres(query)
	}
	st, err := tx.Tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return &sqlStmt{Stmt: st, pg: tx.pg}, nil
}

// sqlStmt is a prepared statement that takes the engine's arguments.
type sqlStmt struct {
	*sql.Stmt
	pg bool
}

func (st *sqlStmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	if st.pg {
		args = pgArgs(args)
	}
	return st.Stmt.ExecContext(ctx, args...)
}

func (st *sqlStmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	if st.pg {
		args = pgArgs(args)
	}
	return st.Stmt.QueryContext(ctx, args...)
}

func (st *sqlStmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	if st.pg {
		args = pgArgs(args)
	}
	return st.Stmt.QueryRowContext(ctx, args...)
}

// note remembers a failure that makes the transaction worth running again.
func (tx *sqlTx) note(err error) {
	if err != nil && tx.pg && retryable(err) {
		tx.retry = true
	}
}

// pgQueries caches each statement's PostgreSQL form.
var pgQueries sync.Map // string → string

// toPostgres rewrites a statement for PostgreSQL: ?N becomes $N, each bare
// ? the next $N, and json_each (SQLite's table of a JSON array's values)
// the function the PostgreSQL schema defines for it. Text inside quotes
// and comments is left alone.
func toPostgres(query string) string {
	if q, ok := pgQueries.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	next := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				b.WriteString(query[i:])
				i = len(query)
				continue
			}
			b.WriteString(query[i : i+end+2])
			i += end + 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i
			}
			b.WriteString(query[i : i+end])
			i += end - 1
		case c == '?':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(query[i+1 : j])
				n, _ := strconv.Atoi(query[i+1 : j])
				next = max(next, n)
			} else {
				next++
				b.WriteString(strconv.Itoa(next))
			}
			i = j - 1
		case (c == 'j' || c == 'J') && strings.HasPrefix(strings.ToLower(query[i:min(len(query), i+10)]), "json_each(") &&
			(i == 0 || !isWordByte(query[i-1])):
			b.WriteString("coppice_json_each(")
			i += len("json_each(") - 1
		default:
			b.WriteByte(c)
		}
	}
	q := b.String()
	pgQueries.Store(query, q)
	return q
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// pgArgs converts arguments PostgreSQL would refuse for the package's
// columns: flags are stored as integers 0 and 1 on both engines.
func pgArgs(args []any) []any {
	for i, a := range args {
		if _, ok := a.(bool); ok {
			out := make([]any, len(args))
			copy(out, args)
			for j := i; j < len(out); j++ {
				if v, ok := out[j].(bool); ok {
					out[j] = boolInt(v)
				}
			}
			return out
		}
	}
	return args
}

func boolInt(v bool) int64 {
	if v {
		return 1
	}
	return 0
}
