package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write would break a uniqueness rule.
var ErrConflict = errors.New("conflict")

// Store is the database of one Coppice instance: an SQLite file (the
// embedded default) or a PostgreSQL database. On SQLite it keeps two pools
// on one file, a single writer connection and a pool of readers; on
// PostgreSQL both are pools of the one server, which several processes
// may share.
type Store struct {
	write *sqlDB
	read  *sqlDB
	pg    bool
	url   string // of a PostgreSQL database
	// owner names this Store among the processes sharing the database:
	// the deliveries it leases carry it.
	owner   string
	txTimed func(time.Duration) // told how long each write transaction took; never nil
	retried func()              // told of each batch run again (PostgreSQL); never nil
	// writeStmts are hotWriteQueries prepared on the writer connection,
	// set once by Open and only read after.
	writeStmts map[string]*sql.Stmt
	reads      *readStmts
	commits    *committer
	// gated: the write gate exists (PostgreSQL, migrations done), so
	// batches pass it (see gateQuery).
	gated     atomic.Bool
	closeOnce sync.Once
	policies  *policyCache
	contexts  *contextCache // JSON contexts stored apart (jsoncontext.go)
	// audiences are the inboxes of the fan-outs TakeFanOuts left to
	// resume (fanout.go).
	audiences *audienceBook
	// analyze counts the deliveries fan-outs queued since the planner's
	// statistics of them were last renewed (PostgreSQL; see
	// analyzeDeliveriesAfter).
	analyze struct {
		queued  atomic.Int64
		running atomic.Bool
		done    sync.WaitGroup
	}
}

// walSizeLimit is the size the WAL file of an SQLite database is cut back
// to when it restarts: 16 times what the default checkpoints let it reach.
const walSizeLimit = 64 << 20

// Option changes how Open opens a Store.
type Option func(*Store)

// WithTxObserver makes the Store tell fn how long each write transaction
// held the writer connection, from begin to commit or rollback (for the
// metrics).
func WithTxObserver(fn func(took time.Duration)) Option {
	return func(s *Store) { s.txTimed = fn }
}

// WithRetryObserver makes the Store call fn each time PostgreSQL could
// not serialize a write batch with another process's and the batch runs
// again (for the metrics: how much the processes sharing a database get
// in each other's way).
func WithRetryObserver(fn func()) Option {
	return func(s *Store) { s.retried = fn }
}

// Open opens the database at path and applies every pending migration:
// a postgres:// (or postgresql://) URL is a PostgreSQL database, anything
// else the path of an SQLite file, created if needed.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("open database: empty path")
	}
	if IsPostgres(path) {
		return openPostgres(ctx, path, opts)
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "5000")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// Group commit runs each InTx call in a savepoint, and FTS5 flushes
	// its pending terms at every savepoint: with the statement journal in
	// a temporary file that cost ~0.25 ms per post on a database of a
	// million posts (issue 13). Keep it in memory; it holds the pages one
	// batch changes. The writer pool keeps its one connection for good
	// (SetConnMaxLifetime(0)), so setting this once covers it.
	//
	// FLT-12: while a long read holds a snapshot, checkpoints cannot reset
	// the WAL and it grows with every write; once it can reset, SQLite
	// cuts the file back to walSizeLimit rather than keep its peak size.
	if _, err := w.ExecContext(ctx, fmt.Sprintf(`PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = %d`, walSizeLimit)); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	q.Set("_txlock", "deferred")
	q.Set("mode", "ro")
	r, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	s := newStore(&sqlDB{DB: w}, &sqlDB{DB: r}, opts)
	go s.runCommitter() // stopped and waited for by Close
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepareWrites(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func newStore(w, r *sqlDB, opts []Option) *Store {
	s := &Store{write: w, read: r, pg: w.pg, owner: newOwner(), txTimed: func(time.Duration) {}, retried: func() {}, reads: &readStmts{db: r, stmts: map[string]*sqlStmt{}}, commits: newCommitter(), policies: newPolicyCache(), contexts: newContextCache(), audiences: newAudienceBook()}
	for _, o := range opts {
		o(s)
	}
	return s
}

// newOwner returns a name for a Store that no other process holds: the
// host, the process and a random part.
func newOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s/%d/%x", host, os.Getpid(), b)
}

// IsPostgres reports whether a --db value names a PostgreSQL database.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Engine names the store's engine: "sqlite" or "postgres".
func (s *Store) Engine() string {
	if s.pg {
		return "postgres"
	}
	return "sqlite"
}

// Close stops the committer, then closes the prepared statements and both
// connection pools.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.commits.stop) })
	<-s.commits.stopped
	s.analyze.done.Wait()
	var errs []error
	for _, st := range s.writeStmts {
		errs = append(errs, st.Close())
	}
	errs = append(errs, s.reads.close(), s.read.Close(), s.write.Close())
	return errors.Join(errs...)
}

// Tx is a write transaction handed to the function given to InTx.
type Tx struct {
	tx    *sqlTx
	stmts map[string]*sql.Stmt // the store's writeStmts
	// search holds the search writes made through this Tx, written when
	// its batch commits (search_sqlite.go).
	search []searchOp
	// queued: deliveries fell due in this Tx, or leased ones left their
	// lease (their hosts have room); on PostgreSQL the commit wakes the
	// delivering processes (ListenDeliveries).
	queued bool
	// followed caches whether a community has accepted followers, read
	// once per Tx for a post's two Announces; a change of a follow in the
	// Tx clears it.
	followed map[int64]bool
	// contexts are the JSON contexts committed (jsoncontext.go); added,
	// those this Tx stored, known to all once it commits.
	contexts *contextCache
	added    map[int64]string
	// recorded is the raw log's row of the activity this Tx recorded
	// last, which an Announce of it then refers to without a query
	// (embed.go).
	recorded recordedActivity
}

// mapError turns driver errors that carry a meaning for callers into the
// package's sentinel errors. It is the one place that reads driver codes.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if mapped, ok := mapPostgresError(err); ok {
		return mapped
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		if se.Code == sqlite3.ErrConstraint && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey) {
			return fmt.Errorf("%w: %v", ErrConflict, err)
		}
		if se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked {
			return fmt.Errorf("%w: %v", ErrBusy, err)
		}
		if se.Code == sqlite3.ErrFull {
			return fmt.Errorf("%w: %v", ErrBusy, err)
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// ErrBusy is returned when the database cannot take a write right now (it is
// locked by another writer past the busy timeout, or the disk is full). The
// caller may retry later; HTTP doors answer 503.
var ErrBusy = errors.New("database busy")

// Times are stored as INTEGER Unix milliseconds in UTC.
func toDB(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UTC().UnixMilli()
}

func fromDB(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Backup writes a consistent copy of the database to path (SQLite's VACUUM
// INTO), which must not exist yet; the server may keep running meanwhile.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.pg {
		return errors.New("back up: this database is PostgreSQL: use pg_dump, or coppice migrate-data to copy it")
	}
	if _, err := s.read.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("back up to %s: %w", path, err)
	}
	return nil
}
