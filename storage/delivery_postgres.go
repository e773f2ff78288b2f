package storage

// PostgreSQL-only statements: claiming deliveries when several processes
// share the queue.

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

const (
	// hostClaimLocksQuery takes, for the rest of the transaction, the claim
	// lock of each host of ?1 that no other process holds, and returns
	// those hosts in the order given.
	hostClaimLocksQuery = `
		SELECT host FROM unnest(CAST(?1 AS TEXT[])) WITH ORDINALITY AS h (host, ord)
		WHERE pg_try_advisory_xact_lock(hashtextextended('coppice delivery host ' || host, 0))
		ORDER BY ord`
	// hostsDueLockedQuery locks, for each host of ?1 (locked by
	// hostClaimLocksQuery), its oldest due rows up to the room the host has
	// left of ?3 in flight, counted over every process, skipping rows
	// locked by anyone else, ?4 rows in all. It returns each row's host's
	// place in ?1. The hosts are taken in turn (a nested loop over ?1), so
	// the limit stops it before it locks the rows of hosts it will not
	// lease.
	hostsDueLockedQuery = `
		SELECT due.id, h.ord FROM unnest(CAST(?1 AS TEXT[])) WITH ORDINALITY AS h (host, ord)
		CROSS JOIN LATERAL (
			SELECT id FROM deliveries d
			WHERE d.state = 'queued' AND d.host = h.host AND d.next_attempt_at <= ?2 AND d.claimed_until <= ?2
			ORDER BY d.next_attempt_at, d.id
			LIMIT GREATEST(CAST(?3 AS BIGINT) - (SELECT COUNT(*) FROM deliveries b
				WHERE b.host = h.host AND b.state = 'queued' AND b.claimed_until > ?2 AND b.claimed_until > 0), 0)
			FOR UPDATE SKIP LOCKED) AS due
		LIMIT ?4`
)

// claimDeliveriesPostgres is ClaimDeliveries for several processes. The
// due hosts are read as on SQLite; then the process takes the claim lock
// of each of them that no other process holds right now (a host another
// process is claiming is skipped: that process gets its rows), and, in a
// second statement, so that it sees every lease committed before it held
// the locks, counts what is in flight to each host in every process and
// locks at most the room left of the host's due rows, skipping rows
// locked by anyone else. The locks last until the leases are committed,
// so two processes never lease one row, nor more than perHost per host.
// Two statements for all the hosts: one per host each cost a round trip,
// and with a hundred hosts a claim took 30-440 ms while the processes
// waited for it. READ COMMITTED: each statement sees what other processes
// committed before it.
func (s *Store) claimDeliveriesPostgres(ctx context.Context, now time.Time, lease time.Duration, perHost, limit int) ([]Delivery, error) {
	var out []Delivery
	err := s.inOwnTx(ctx, sql.LevelReadCommitted, func(tx *Tx) error {
		out = nil
		waiting, hosts, err := dueHosts(ctx, tx, now, limit)
		if err != nil {
			return err
		}
		hosts = slices.DeleteFunc(hosts, func(h string) bool { return waiting[h] })
		if len(hosts) == 0 {
			return nil
		}
		var mine []string
		if err := queryEach(ctx, tx, hostClaimLocksQuery, []any{hosts}, func(sc scanner) error {
			var h string
			err := sc.Scan(&h)
			mine = append(mine, h)
			return err
		}); err != nil {
			return err
		}
		if len(mine) == 0 {
			return nil
		}
		type row struct{ id, ord int64 }
		var rows []row
		if err := queryEach(ctx, tx, hostsDueLockedQuery, []any{mine, toDB(now), perHost, limit}, func(sc scanner) error {
			var r row
			err := sc.Scan(&r.id, &r.ord)
			rows = append(rows, r)
			return err
		}); err != nil {
			return err
		}
		// The oldest due hosts first, whatever order the rows came in.
		slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.ord, b.ord) })
		ids := make([]int64, 0, len(rows))
		for _, r := range rows {
			ids = append(ids, r.id)
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
