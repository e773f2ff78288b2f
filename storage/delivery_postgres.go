package storage

// PostgreSQL-only statements: claiming deliveries when several processes
// share the queue.

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

const (
	// hostClaimLockQuery takes, for the rest of the transaction, the lock
	// of one host's claims, or reports that another process holds it.
	hostClaimLockQuery = `SELECT pg_try_advisory_xact_lock(hashtextextended('coppice delivery host ' || ?, 0))`
	hostBusyQuery      = `SELECT COUNT(*) FROM deliveries WHERE host = ?1 AND state = 'queued' AND claimed_until > ?2 AND claimed_until > 0`
	hostDueLockedQuery = `
		SELECT id FROM deliveries
		WHERE state = 'queued' AND host = ?1 AND next_attempt_at <= ?2 AND claimed_until <= ?2
		ORDER BY next_attempt_at, id LIMIT ?3
		FOR UPDATE SKIP LOCKED`
)

// claimDeliveriesPostgres is ClaimDeliveries for several processes. The
// due hosts are read as on SQLite; then, host by host, the process takes
// the host's claim lock (a host another process is claiming right now is
// skipped: it gets the host's rows), counts what is in flight to the host
// in every process (the leases committed before the lock was taken), and
// locks at most the room left of the host's due rows, skipping rows
// locked by anyone else. The locks last until the leases are committed,
// so two processes never lease one row, nor more than perHost per host.
// READ COMMITTED: each statement sees what other processes committed
// before it, which is what the count after the lock needs.
func (s *Store) claimDeliveriesPostgres(ctx context.Context, now time.Time, lease time.Duration, perHost, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.inOwnTx(ctx, sql.LevelReadCommitted, func(tx *Tx) error {
		out = nil
		waiting, hosts, err := dueHosts(ctx, tx, now, limit)
		if err != nil {
			return err
		}
		var ids []int64
		for _, h := range hosts {
			if waiting[h] {
				continue
			}
			var mine bool
			if err := tx.tx.QueryRowContext(ctx, hostClaimLockQuery, h).Scan(&mine); err != nil {
				return mapError(err)
			}
			if !mine {
				continue
			}
			var busy int
			if err := tx.tx.QueryRowContext(ctx, hostBusyQuery, h, toDB(now)).Scan(&busy); err != nil {
				return mapError(err)
			}
			room := min(perHost-busy, limit-len(ids))
			if room <= 0 {
				continue
			}
			if ids, err = appendHostDue(ctx, tx, ids, hostDueLockedQuery, h, now, room); err != nil {
				return err
			}
			if len(ids) >= limit {
				break
			}
		}
		if len(ids) == 0 {
			return nil
		}
		out, err = s.lease(ctx, tx, ids, now.Add(lease))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}
