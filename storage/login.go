package storage

import (
	"context"
	"fmt"
	"time"
)

// Failed console logins are counted in the database (migration 0021), so
// the limit holds across the processes that share it.

// LoginWait returns how long the most limited of keys must wait before its
// next attempt: a key with at least limit failures after now-window waits
// until the limit-th most recent of them leaves the window. 0: go ahead.
func (s *Store) LoginWait(ctx context.Context, keys []string, now time.Time, limit int, window time.Duration) (time.Duration, error) {
	var wait time.Duration
	for _, k := range keys {
		var at int64
		err := s.read.QueryRowContext(ctx, `SELECT at FROM login_failures WHERE key = ? AND at > ? ORDER BY at DESC LIMIT 1 OFFSET ?`,
			k, toDB(now.Add(-window)), limit-1).Scan(&at)
		if err != nil {
			if err = mapError(err); err == ErrNotFound {
				continue
			}
			return 0, fmt.Errorf("login failures of %q: %w", k, err)
		}
		wait = max(wait, fromDB(at).Add(window).Sub(now))
	}
	return wait, nil
}

// RecordLoginFailure counts a failure for each key at now, and forgets the
// failures older than window.
func (s *Store) RecordLoginFailure(ctx context.Context, keys []string, now time.Time, window time.Duration) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM login_failures WHERE at <= ?`, toDB(now.Add(-window))); err != nil {
			return fmt.Errorf("forget old login failures: %w", mapError(err))
		}
		for _, k := range keys {
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO login_failures (key, at) VALUES (?, ?)`, k, toDB(now)); err != nil {
				return fmt.Errorf("count login failure: %w", mapError(err))
			}
		}
		return nil
	})
}

// ClearLoginFailures forgets the failures of key.
func (s *Store) ClearLoginFailures(ctx context.Context, key string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM login_failures WHERE key = ?`, key); err != nil {
		return fmt.Errorf("clear login failures: %w", mapError(err))
	}
	return nil
}
