package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Group commit (issue 13). SQLite has one writer, so write transactions
// run one after the other whatever we do; what a commit costs (the WAL
// append, the lock, the shared-memory index) need not be paid by each.
// InTx hands its function to the committer, one goroutine owned by the
// Store, which runs the functions waiting at that moment one after the
// other in one SQLite transaction, each inside its own SAVEPOINT: a
// function that fails rolls back to its savepoint, so only its own work
// is undone. The transaction then commits once, and only then is every
// caller answered, with its own error or the commit's.

// maxBatch bounds how many InTx calls share one SQLite transaction, so the
// first of them waits for at most that many others.
const maxBatch = 64

const (
	savepointQuery         = `SAVEPOINT intx`
	releaseSavepointQuery  = `RELEASE intx`
	rollbackSavepointQuery = `ROLLBACK TO intx`
)

// errClosed is what InTx returns once the store is closed.
var errClosed = errors.New("storage is closed")

// Two lanes (issue 13). The delivery queue's own writes (expanding
// fan-outs, claims, outcomes) are background work: posts and other calls
// from people and peers go first. A background call runs when no
// foreground call waits, or once it has waited backgroundMaxWait, so a
// steady stream of posts delays the queue but never stops it. Without
// them, a post arriving while the deliveries of earlier posts ran waited
// for their claims and expansions, and fan-out ingest's p99 was 144-191 ms.
const backgroundMaxWait = 20 * time.Millisecond

// txRequest is one InTx call waiting for the committer.
type txRequest struct {
	at   time.Time // when a background call was made
	ctx  context.Context
	fn   func(tx *Tx) error
	err  error
	done chan struct{}
	// panicked holds what fn panicked with, re-raised in the caller.
	panicked any
	// queued: fn made deliveries due (Tx.queued).
	queued bool
}

// committer runs InTx calls in batches until stop is closed.
type committer struct {
	requests   chan *txRequest
	background chan *txRequest
	maxWait    time.Duration // backgroundMaxWait; tests change it
	stop       chan struct{}
	stopped    chan struct{}
}

func newCommitter() *committer {
	return &committer{requests: make(chan *txRequest), background: make(chan *txRequest), maxWait: backgroundMaxWait, stop: make(chan struct{}), stopped: make(chan struct{})}
}

// InTx runs fn in a write transaction: its changes are committed when fn
// returns nil and undone otherwise, and InTx returns only after the
// commit. Concurrent calls may share one SQLite transaction (group
// commit), each in its own savepoint. fn must not call InTx.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	return s.inTx(ctx, s.commits.requests, fn)
}

// inBackground is InTx for the delivery queue's own writes: it runs after
// the InTx calls waiting, or once it has waited backgroundMaxWait.
func (s *Store) inBackground(ctx context.Context, fn func(tx *Tx) error) error {
	return s.inTx(ctx, s.commits.background, fn)
}

func (s *Store) inTx(ctx context.Context, lane chan *txRequest, fn func(tx *Tx) error) error {
	req := &txRequest{at: time.Now(), ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case lane <- req:
	case <-s.commits.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once handed over, fn runs and may commit: wait for the answer even
	// if ctx ends meanwhile.
	<-req.done
	if req.panicked != nil {
		panic(req.panicked)
	}
	return req.err
}

// runCommitter takes InTx calls until the store closes: foreground
// calls first, a background call when none waits or once it has waited
// backgroundMaxWait.
func (s *Store) runCommitter() {
	defer close(s.commits.stopped)
	var held *txRequest // a background call taken, not yet run
	for {
		if held != nil && time.Since(held.at) >= s.commits.maxWait {
			s.commitBatch(held, s.waitingRequest)
			held = nil
			continue
		}
		if held != nil {
			select {
			case req := <-s.commits.requests:
				s.commitBatch(req, s.waitingRequest)
			default:
				s.commitBatch(held, s.waitingRequest)
				held = nil
			}
			continue
		}
		select {
		case req := <-s.commits.requests:
			s.commitBatch(req, s.waitingRequest)
		case req := <-s.commits.background:
			held = req
		case <-s.commits.stop:
			return
		}
	}
}

// waitingRequest returns an InTx call waiting right now, or nil.
func (s *Store) waitingRequest() *txRequest {
	select {
	case req := <-s.commits.requests:
		return req
	default:
		return nil
	}
}

// commitBatch runs first and the calls next gives (until it gives nil, up
// to maxBatch in all) in one transaction, commits it and answers them all.
// On PostgreSQL the transaction is SERIALIZABLE: when the server cannot
// serialize it with another process's, the whole batch runs again (up to
// maxTxAttempts times), so a function may run more than once and must
// touch nothing but its Tx. Each run passes the write gate first (see
// gateQuery): the first side by side with other processes' batches, the
// next ones alone.
func (s *Store) commitBatch(first *txRequest, next func() *txRequest) {
	start := time.Now()
	defer func() { s.txTimed(time.Since(start)) }()
	batch := []*txRequest{first}
	if s.pg {
		// A PostgreSQL transaction sees the database as of its first
		// statement: a call taken into a batch already under way would not
		// see what its caller committed outside InTx just before it (a
		// foreign key would then miss its row). Take only the calls
		// waiting when the batch begins.
		for len(batch) < maxBatch {
			req := next()
			if req == nil {
				break
			}
			batch = append(batch, req)
		}
		next = nil
	}
	var commitErr error
	for attempt := 1; ; attempt++ {
		var again bool
		commitErr, again = s.runBatch(&batch, next, attempt > 1)
		if !again {
			break
		}
		if attempt == maxTxAttempts {
			commitErr = fmt.Errorf("%w: transaction not serializable after %d attempts: %v", ErrBusy, attempt, commitErr)
			break
		}
		s.retried()
		next = nil // run again exactly the calls of the batch
		for _, req := range batch {
			req.err, req.panicked = nil, nil
		}
		time.Sleep(time.Duration(rand.Int64N(int64(attempt) * int64(2*time.Millisecond))))
	}
	for _, req := range batch {
		if commitErr != nil && req.err == nil && req.panicked == nil {
			req.err = commitErr
		}
		close(req.done)
	}
}

// gateQuery is the first statement of a batch on PostgreSQL (migration
// 0023). Batches of several processes on one database conflict when they
// write near the same rows (posts of one community, the same index pages),
// and PostgreSQL then fails one of them with SQLSTATE 40001; run again
// side by side, the same two would fail again. So a batch passes the gate
// in SHARE mode, alongside the other processes' batches, and a batch that
// failed so runs again in EXCLUSIVE mode: it waits for the batches under
// way, keeps new ones out, and runs alone. LOCK TABLE takes no snapshot,
// so the batch then sees all they committed.
var gateQuery = [2]string{`LOCK TABLE write_gate IN SHARE MODE`, `LOCK TABLE write_gate IN EXCLUSIVE MODE`}

// runBatch runs the calls of batch, and those next gives (when not nil),
// in one transaction and commits it; each call's own outcome is left in
// its request. alone says the batch passes the write gate alone. It
// returns the error of the transaction as a whole, and whether PostgreSQL
// could not serialize it (the batch may run again).
func (s *Store) runBatch(batch *[]*txRequest, next func() *txRequest, alone bool) (commitErr error, again bool) {
	var opts *sql.TxOptions
	if s.pg {
		opts = &sql.TxOptions{Isolation: sql.LevelSerializable}
	}
	// The transaction serves many callers: none of their contexts may end
	// it. Each function's own statements use its caller's context.
	sqlTx, err := s.write.BeginTx(context.Background(), opts)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", mapError(err)), false
	}
	if s.gated.Load() {
		gate := gateQuery[0]
		if alone {
			gate = gateQuery[1]
		}
		if _, err := sqlTx.ExecContext(context.Background(), gate); err != nil {
			_ = sqlTx.Rollback()
			return fmt.Errorf("write gate: %w", mapError(err)), retryable(err)
		}
	}
	var kept kept // what the calls that succeeded leave to the commit
	broken := false
	for i := 0; !broken; i++ {
		if i == len(*batch) {
			if next == nil || len(*batch) == maxBatch {
				break
			}
			req := next()
			if req == nil {
				break
			}
			*batch = append(*batch, req)
		}
		broken = s.runInSavepoint(sqlTx, (*batch)[i], &kept)
	}
	if !broken {
		tx := &Tx{tx: sqlTx, stmts: s.writeStmts, contexts: s.contexts}
		commitErr = writeSearch(context.Background(), tx, kept.search)
		if commitErr == nil && s.pg && slices.ContainsFunc(*batch, func(r *txRequest) bool { return r.queued }) {
			_, commitErr = sqlTx.ExecContext(context.Background(), `SELECT pg_notify(?, '')`, deliveriesChannel)
		}
	}
	if broken || commitErr != nil {
		// A savepoint could not be rolled back (SQLite rolls the whole
		// transaction back when, for one, a statement is interrupted;
		// PostgreSQL cannot serialize the transaction), or the search
		// writes failed: nothing of the batch is kept.
		_ = sqlTx.Rollback() // the transaction may be gone already
		if commitErr == nil {
			commitErr = errors.New("transaction rolled back with another caller's failed work; retry")
		}
		return commitErr, sqlTx.retry || retryable(commitErr)
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapError(err)), retryable(err)
	}
	s.contexts.add(kept.contexts)
	return nil, false
}

// kept gathers what the calls of a batch that succeeded leave to its
// commit: their search writes, made at the end, and the JSON contexts
// they stored, known to every later call once committed.
type kept struct {
	search   []searchOp
	contexts map[int64]string
}

// runInSavepoint runs req's function in its own savepoint of sqlTx and
// keeps its outcome in req; when it succeeds, what it leaves to the
// commit joins k. It reports whether the transaction is no longer usable.
func (s *Store) runInSavepoint(sqlTx *sqlTx, req *txRequest, k *kept) (broken bool) {
	tx := &Tx{tx: sqlTx, stmts: s.writeStmts, contexts: s.contexts}
	if _, err := tx.exec(req.ctx, savepointQuery); err != nil {
		req.err = fmt.Errorf("begin savepoint: %w", mapError(err))
		return false
	}
	req.panicked, req.err = callFn(req.fn, tx)
	req.queued = tx.queued
	if s.pg && req.err != nil && retryable(req.err) {
		// A failure the wrappers did not see (a prepared statement's, or
		// one that showed only when a row was scanned) is the batch's.
		sqlTx.retry = true
	}
	if sqlTx.retry {
		// PostgreSQL could not serialize the transaction: the batch runs
		// again, whatever this call made of the failure.
		return true
	}
	if req.err == nil && req.panicked == nil {
		if _, err := tx.exec(context.Background(), releaseSavepointQuery); err != nil {
			req.err = fmt.Errorf("release savepoint: %w", mapError(err))
			return true
		}
		k.search = append(k.search, tx.search...)
		for id, v := range tx.added {
			if k.contexts == nil {
				k.contexts = map[int64]string{}
			}
			k.contexts[id] = v
		}
		return false
	}
	// Undo only this caller's work; the savepoint itself is then released.
	if _, err := tx.exec(context.Background(), rollbackSavepointQuery); err != nil {
		return true
	}
	if _, err := tx.exec(context.Background(), releaseSavepointQuery); err != nil {
		return true
	}
	return false
}

// callFn calls fn, turning a panic into a value to re-raise in its caller.
func callFn(fn func(tx *Tx) error, tx *Tx) (panicked any, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = p
		}
	}()
	return nil, fn(tx)
}
