package storage

// PostgreSQL: several coppice processes may share one database. Each runs
// its write transactions one batch at a time, as on SQLite (commit.go), so
// its own never clash; what SQLite gets from having one writer for all
// processes (every write transaction sees the one before it whole)
// PostgreSQL gets from running each batch SERIALIZABLE and running it again
// when the server could not serialize it with another process's.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Pool sizes per process. A process's readers and writers together stay
// well under PostgreSQL's default of 100 connections with a few processes.
const (
	pgWriters = 8
	pgReaders = 8
)

// maxTxAttempts bounds how often a write transaction (or batch) is run
// when PostgreSQL cannot serialize it with others.
const maxTxAttempts = 8

func openPostgres(ctx context.Context, url string, opts []Option) (*Store, error) {
	open := func(n int) (*sqlDB, error) {
		db, err := sql.Open("pgx", url)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		db.SetConnMaxIdleTime(5 * time.Minute)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, err
		}
		return &sqlDB{DB: db, pg: true}, nil
	}
	w, err := open(pgWriters)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", redactURL(url), err)
	}
	r, err := open(pgReaders)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", redactURL(url), err)
	}
	s := newStore(w, r, opts)
	s.url = url
	go s.runCommitter() // stopped and waited for by Close
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// inOwnTx runs fn in a transaction of its own at level, outside group
// commit, again (up to maxTxAttempts in all) while PostgreSQL reports that
// it could not serialize it: for the few transactions that take locks of
// their own and must not wait behind a batch (claims of deliveries).
func (s *Store) inOwnTx(ctx context.Context, level sql.IsolationLevel, fn func(tx *Tx) error) error {
	for attempt := 1; ; attempt++ {
		err, again := s.tryOwnTx(ctx, level, fn)
		if !again {
			return err
		}
		if attempt == maxTxAttempts {
			return fmt.Errorf("%w: transaction not serializable after %d attempts: %v", ErrBusy, attempt, err)
		}
		d := time.Duration(rand.Int64N(int64(attempt) * int64(2*time.Millisecond)))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// tryOwnTx runs fn once; again reports a serialization failure.
func (s *Store) tryOwnTx(ctx context.Context, level sql.IsolationLevel, fn func(tx *Tx) error) (err error, again bool) {
	start := time.Now()
	defer func() { s.txTimed(time.Since(start)) }()
	sqlTx, err := s.write.BeginTx(ctx, &sql.TxOptions{Isolation: level})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", mapError(err)), false
	}
	tx := &Tx{tx: sqlTx, contexts: s.contexts}
	panicked, err := callFn(fn, tx)
	if panicked != nil {
		_ = sqlTx.Rollback()
		panic(panicked)
	}
	if err == nil {
		err = writeSearch(ctx, tx, tx.search)
	}
	if err == nil && tx.queued {
		_, err = sqlTx.ExecContext(ctx, `SELECT pg_notify(?, '')`, deliveriesChannel)
	}
	if err != nil {
		_ = sqlTx.Rollback()
		return err, sqlTx.retry || retryable(err)
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapError(err)), retryable(err)
	}
	s.contexts.add(tx.added)
	return nil, false
}

// migrationLockKey is the advisory lock that serializes migrations of one
// database among the processes that start on it.
const migrationLockKey = 0x636f707069636501 // "coppice" 1

// migrationLock waits for the database's migration lock and returns its
// release.
func (s *Store) migrationLock(ctx context.Context) (func(), error) {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrationLockKey)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrationLockKey))
		conn.Close()
	}, nil
}

// PostgreSQL error codes (Appendix A of its manual) that carry a meaning.
const (
	pgUniqueViolation      = "23505"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
	pgLockNotAvailable     = "55P03"
	pgTooManyConnections   = "53300"
	pgDiskFull             = "53100"
	pgOutOfMemory          = "53200"
	pgCannotConnectNow     = "57P03"
)

// retryable reports whether err says the transaction could not be
// serialized with concurrent ones and may simply be run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == pgSerializationFailure || pe.Code == pgDeadlockDetected
	}
	return false
}

// mapPostgresError is mapError for PostgreSQL's errors.
func mapPostgresError(err error) (error, bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return nil, false
	}
	switch pe.Code {
	case pgUniqueViolation:
		return fmt.Errorf("%w: %v", ErrConflict, err), true
	case pgSerializationFailure, pgDeadlockDetected, pgLockNotAvailable, pgTooManyConnections,
		pgDiskFull, pgOutOfMemory, pgCannotConnectNow:
		return fmt.Errorf("%w: %w", ErrBusy, err), true
	}
	return err, true
}

// redactURL hides the password of a database URL in messages.
func redactURL(raw string) string {
	cfg, err := pgconn.ParseConfig(raw)
	if err != nil || cfg.Password == "" {
		return raw
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// deliveriesChannel is the channel of PostgreSQL's LISTEN/NOTIFY on which
// a commit that made deliveries due wakes the delivering processes.
const deliveriesChannel = "coppice_deliveries"

// Notifies reports whether other processes' new deliveries are announced
// (ListenDeliveries): on PostgreSQL they are; SQLite has no such thing, and
// the delivering process polls for rows written by another (a command).
func (s *Store) Notifies() bool { return s.pg }

// ListenDeliveries calls wake whenever any process commits deliveries that
// are due, until ctx ends; on SQLite it returns at once. It keeps its own
// connection, opened again after a failure (wake is then called once, for
// what may have been missed). It returns ctx's error.
func (s *Store) ListenDeliveries(ctx context.Context, wake func()) error {
	if !s.pg {
		return nil
	}
	backoff := time.Second
	for ctx.Err() == nil {
		if listened := s.listen(ctx, wake); listened {
			backoff = time.Second // it worked for a while: try again soon
		} else {
			backoff = min(2*backoff, 30*time.Second)
		}
		wake()
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
	}
	return ctx.Err()
}

// listen holds one LISTEN connection until it fails or ctx ends, and
// reports whether it got as far as listening.
func (s *Store) listen(ctx context.Context, wake func()) (listened bool) {
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return false
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+deliveriesChannel); err != nil {
		return false
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true
		}
		wake()
	}
}
