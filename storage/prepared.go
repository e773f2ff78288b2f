package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// The statements the inbox runs for every post are prepared once per
// connection rather than on every call: preparing them anew was about 12%
// of the server's CPU under load (issue 13), much of it inside the write
// transaction, which every writer waits for.

// hotWriteQueries are the write-path statements prepared on the writer
// connection when the store opens. The writer pool has one connection,
// which a transaction holds, so statements cannot be prepared lazily from
// inside one.
func hotWriteQueries() []string {
	return []string{
		postByIRIQuery, createPostQuery, recordInboxActivityQuery,
		createThreadQuery, threadByIDQuery, touchThreadQuery,
		recordContributionQuery, insertSearchQuery, deleteSearchQuery,
		createOutboxActivityQuery, embeddedQuery, hasFollowersQuery, enqueueFollowersQuery, queueFanOutQuery,
		followerHostsQuery, mayRefuseQuery, rulesQuery,
		savepointQuery, releaseSavepointQuery, rollbackSavepointQuery,
		deliveredQuery, deliveryFailedQuery, deliveryRetryQuery, hostSuccessQuery, hostFailureQuery,
		fanOutRowQuery, fanOutDoneThroughQuery, fanOutDoneQuery, dropFanOutQuery, leaseFanOutQuery,
		fanOutsDueQuery, fanOutAudienceQuery, queuedInboxesQuery,
	}
}

// prepareWrites prepares hotWriteQueries on the writer connection.
func (s *Store) prepareWrites(ctx context.Context) error {
	s.writeStmts = map[string]*sql.Stmt{}
	for _, q := range hotWriteQueries() {
		if !s.pg {
			q = withoutReturningID(q)
		}
		st, err := s.write.DB.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
		s.writeStmts[q] = st
	}
	return nil
}

// exec runs a statement in the transaction, prepared when it is one of
// hotWriteQueries. The caller's cancellation does not reach the statement:
// the driver would interrupt it, and SQLite then rolls back the whole
// transaction, which group commit shares with other callers; it also
// spares the driver a goroutine per statement watching ctx.
func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if st, ok := tx.stmts[query]; ok {
		return tx.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.tx.ExecContext(ctx, query, args...)
}

// returningID ends the INSERTs whose caller needs the new row's id; they
// run through Tx.insert.
const returningID = ` RETURNING id`

// withoutReturningID is an INSERT ending in returningID without it, as it
// runs on SQLite; any other query as it is.
func withoutReturningID(query string) string {
	return strings.TrimSuffix(query, returningID)
}

// insert runs an INSERT that ends in returningID and returns the new row's
// id. On SQLite the statement runs without the clause and the id is the
// rowid SQLite reports: RETURNING takes the driver's query path (rows,
// columns, scanning, closing), which cost 5-10 µs more per row inside the
// single write transaction, four times per post (issue 13). PostgreSQL
// reports no rowid, so there the clause stays. The statement must fail
// rather than skip a row (no OR IGNORE, no ON CONFLICT DO NOTHING): SQLite
// would then report the rowid of an earlier insert.
func (tx *Tx) insert(ctx context.Context, query string, args ...any) (int64, error) {
	if tx.tx.pg {
		var id int64
		err := tx.queryRow(ctx, query, args...).Scan(&id)
		return id, err
	}
	res, err := tx.exec(ctx, withoutReturningID(query), args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// queryRow runs a query for one row in the transaction, prepared when it is
// one of hotWriteQueries; like exec, without the caller's cancellation.
func (tx *Tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if st, ok := tx.stmts[query]; ok {
		return tx.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.tx.QueryRowContext(ctx, query, args...)
}

// query runs a query in the transaction, prepared when it is one of
// hotWriteQueries; like exec, without the caller's cancellation.
func (tx *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	if st, ok := tx.stmts[query]; ok {
		return tx.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.tx.QueryContext(ctx, query, args...)
}

// readStmts prepares statements on the reader pool on first use; database/sql
// then prepares each once per reader connection.
type readStmts struct {
	db    *sqlDB
	mu    sync.RWMutex
	stmts map[string]*sqlStmt // mu guards stmts
}

// stmt returns the prepared form of query, preparing it on first use.
func (r *readStmts) stmt(ctx context.Context, query string) (*sqlStmt, error) {
	r.mu.RLock()
	st, ok := r.stmts[query]
	r.mu.RUnlock()
	if ok {
		return st, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.stmts[query]; ok {
		return st, nil
	}
	st, err := r.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare %q: %w", query, err)
	}
	r.stmts[query] = st
	return st, nil
}

// close closes every prepared statement.
func (r *readStmts) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var first error
	for q, st := range r.stmts {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(r.stmts, q)
	}
	return first
}

// readRow runs a fixed query (a constant, never built from input) for one
// row on the reader pool, prepared once per connection. The inbox's
// per-request lookups go through it. They are lookups by key, done in
// microseconds, and are not cancelled with ctx: watching ctx costs
// database/sql and the SQLite driver a goroutine per query, more than the
// lookup (issue 13).
func (s *Store) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	st, err := s.reads.stmt(ctx, query)
	if err != nil {
		// A statement that does not prepare fails the same way unprepared,
		// and that error is the one the caller reports through Scan.
		return s.read.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}
