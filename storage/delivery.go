package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Delivery is one queued POST of an activity to one inbox.
type Delivery struct {
	ID            int64
	ActivityID    int64
	Inbox         string
	Host          string
	Attempts      int
	NextAttemptAt time.Time
	QueuedAt      time.Time
	LastError     string
	// FanOut, when not 0, is the fan-out the delivery was taken from
	// without a row (TakeFanOuts; ID is 0), and Seq its place among the
	// inboxes that take gave.
	FanOut int64
	Seq    int
}

const enqueueDeliveryQuery = `
	INSERT INTO deliveries (activity_id, inbox, host, next_attempt_at, queued_at)
	VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (activity_id, inbox) DO NOTHING`

// EnqueueDelivery queues activityID for inbox. Queuing the same pair twice
// has one effect.
func (tx *Tx) EnqueueDelivery(ctx context.Context, activityID int64, inbox string, now time.Time) error {
	if _, err := tx.tx.ExecContext(ctx, enqueueDeliveryQuery, activityID, inbox, HostOf(inbox), toDB(now), toDB(now)); err != nil {
		return fmt.Errorf("enqueue delivery to %s: %w", inbox, mapError(err))
	}
	tx.queued = true
	return nil
}

// enqueueFollowersQuery queues one delivery per distinct delivery inbox of
// the accepted followers: followers on one host that share an inbox get one
// request. Hosts marked unreachable get nothing new until they are revived;
// hosts the federation policy refuses get nothing: the query takes them
// (refusedFollowerHosts), decided once per host.
// The inboxes are collapsed before they are checked, so the checks run
// once per inbox, not once per follower (issue 13).
const enqueueFollowersQuery = `
	INSERT INTO deliveries (activity_id, inbox, host, next_attempt_at, queued_at)
	SELECT CAST(?1 AS BIGINT), target.delivery_inbox, target.host, CAST(?2 AS BIGINT), CAST(?2 AS BIGINT)
	FROM (SELECT DISTINCT a.delivery_inbox, a.delivery_host AS host
		FROM follows f JOIN actors a ON a.iri = f.actor_iri
		WHERE f.community_id = ?3 AND f.state = 'accepted') AS target
	WHERE target.host NOT IN (SELECT host FROM hosts WHERE unreachable = 1)
		AND target.host NOT IN (SELECT value FROM json_each(?6))
		AND target.delivery_inbox NOT IN (SELECT value FROM json_each(?4))
		AND (?5 = '' OR COALESCE((SELECT family FROM host_software hs WHERE hs.host = target.host), '') IN (?5, ''))
	ON CONFLICT (activity_id, inbox) DO NOTHING`

const (
	hasFollowersQuery  = `SELECT EXISTS (SELECT 1 FROM follows WHERE community_id = ? AND state = 'accepted')`
	followerHostsQuery = `
		SELECT DISTINCT a.delivery_host FROM follows f JOIN actors a ON a.iri = f.actor_iri
		WHERE f.community_id = ? AND f.state = 'accepted'`
	mayRefuseQuery = `
		SELECT EXISTS (SELECT 1 FROM domain_policies WHERE policy = 'block')
			OR COALESCE((SELECT value FROM settings WHERE key = 'federation_mode'), 'open') = 'allowlist'`
)

// hasFollowers reports whether a community has accepted followers, read
// once per Tx (see Tx.followed).
func (tx *Tx) hasFollowers(ctx context.Context, communityID int64) (bool, error) {
	if has, ok := tx.followed[communityID]; ok {
		return has, nil
	}
	var has bool
	if err := tx.queryRow(ctx, hasFollowersQuery, communityID).Scan(&has); err != nil {
		return false, fmt.Errorf("followers of %d: %w", communityID, mapError(err))
	}
	if tx.followed == nil {
		tx.followed = map[int64]bool{}
	}
	tx.followed[communityID] = has
	return has, nil
}

// refusedFollowerHosts returns, as a JSON array, the hosts of a
// community's accepted followers that the federation policy refuses. With
// no block and no allowlist nothing is refused, and the followers' hosts
// are not read at all.
func (tx *Tx) refusedFollowerHosts(ctx context.Context, communityID int64) (string, error) {
	var may bool
	if err := tx.queryRow(ctx, mayRefuseQuery).Scan(&may); err != nil {
		return "", mapError(err)
	}
	if !may {
		return "[]", nil
	}
	rows, err := tx.query(ctx, followerHostsQuery, communityID)
	if err != nil {
		return "", mapError(err)
	}
	var hosts []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return "", mapError(err)
		}
		hosts = append(hosts, h)
	}
	if err := rows.Close(); err != nil {
		return "", mapError(err)
	}
	if err := rows.Err(); err != nil {
		return "", mapError(err)
	}
	r, err := rulesFor(ctx, tx.query, hosts)
	if err != nil {
		return "", err
	}
	refused := []string{}
	for _, h := range hosts {
		if !r.allowed(h) {
			refused = append(refused, h)
		}
	}
	list, err := json.Marshal(refused)
	return string(list), err
}

// EnqueueFollowers queues activityID for every accepted follower of a
// community, collapsed onto shared inboxes, except the inboxes in skip (for
// example the sender's own). It returns the number of deliveries queued.
func (tx *Tx) EnqueueFollowers(ctx context.Context, activityID, communityID int64, skip []string, now time.Time) (int, error) {
	return tx.EnqueueFollowersOf(ctx, activityID, communityID, FamilyUnknown, skip, now)
}

// EnqueueFollowersOf is EnqueueFollowers for the followers on hosts of one
// family and on hosts whose family is not known (FamilyUnknown: all).
func (tx *Tx) EnqueueFollowersOf(ctx context.Context, activityID, communityID int64, family Family, skip []string, now time.Time) (int, error) {
	// A community without followers is common (and is BM-1's): the
	// INSERT … SELECT below costs ~50 µs even when it selects nothing,
	// an indexed existence check a few.
	if has, err := tx.hasFollowers(ctx, communityID); err != nil || !has {
		return 0, err
	}
	if skip == nil {
		skip = []string{}
	}
	skipJSON, err := json.Marshal(skip)
	if err != nil {
		return 0, fmt.Errorf("enqueue deliveries: %w", err)
	}
	refused, err := tx.refusedFollowerHosts(ctx, communityID)
	if err != nil {
		return 0, fmt.Errorf("enqueue deliveries to followers of %d: %w", communityID, err)
	}
	res, err := tx.exec(ctx, enqueueFollowersQuery, activityID, toDB(now), communityID, string(skipJSON), string(family), refused)
	if err != nil {
		return 0, fmt.Errorf("enqueue deliveries to followers of %d: %w", communityID, mapError(err))
	}
	n, err := res.RowsAffected()
	tx.queued = tx.queued || n > 0
	return int(n), err
}

// Claiming works host by host so its cost does not grow with the whole
// queue (SECURITY.md FLT-13): the rows in flight (index on claimed_until),
// the due hosts oldest first, then for each host its oldest due rows up to
// the per-host limit, from the index on (state, host, next_attempt_at,
// claimed_until).
//
// dueHostsQuery finds the due hosts with one index seek per host that has
// queued rows, not by reading every due row: queued_hosts walks the
// distinct hosts of that index, each step the smallest host above the last
// (a "loose index scan", in standard SQL), and each host's oldest due row
// is the first unclaimed entry of its range.
//
// Without statistics SQLite takes an equality on state for a very
// selective one, so the queries are written for the index they must use:
// busyHostsQuery has no condition on state (a failed row holds no lease)
// and is counted here, and hostDueQuery orders by next_attempt_at only, an
// order its index gives. Grouping and ordering otherwise read every queued
// row: a claim of 512 rows from a million due on 100 hosts took 180 ms,
// and grew with the queue (storage's BenchmarkClaimDeliveries).
const (
	busyHostsQuery = `SELECT host FROM deliveries WHERE claimed_until > ?1 AND claimed_until > 0`
	dueHostsQuery  = `
		WITH RECURSIVE queued_hosts (host) AS (
			SELECT MIN(host) FROM deliveries WHERE state = 'queued'
			UNION ALL
			SELECT (SELECT MIN(d.host) FROM deliveries d WHERE d.state = 'queued' AND d.host > q.host)
			FROM queued_hosts q WHERE q.host IS NOT NULL
		)
		SELECT host, due FROM (
			SELECT q.host AS host, (SELECT MIN(d.next_attempt_at) FROM deliveries d
				WHERE d.state = 'queued' AND d.host = q.host AND d.next_attempt_at <= ?1 AND d.claimed_until <= ?1) AS due
			FROM queued_hosts q WHERE q.host IS NOT NULL
		) AS h
		WHERE due IS NOT NULL ORDER BY due LIMIT ?2`
	waitingHostsQuery = `SELECT host FROM hosts WHERE retry_after_until > ?1`
	hostDueQuery      = `
		SELECT id FROM deliveries
		WHERE state = 'queued' AND host = ?1 AND next_attempt_at <= ?2 AND claimed_until <= ?2
		ORDER BY next_attempt_at LIMIT ?3`
	leaseQuery = `
		UPDATE deliveries SET claimed_until = ?1, claimed_by = ?3
		WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each(?2))
		RETURNING id, activity_id, inbox, host, attempts, next_attempt_at, queued_at, last_error`
)

// ClaimDeliveries leases up to limit due deliveries until now+lease, with
// at most perHost in flight per host, and skipping hosts that asked us to
// wait (429 Retry-After), once the oldest fan-outs are expanded into at
// least limit rows (ExpandFanOuts). Other workers skip leased rows; a lease not
// renewed (RenewClaims) runs out, and the rows fall due again for any
// process.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, perHost, limit int) ([]Delivery, error) {
	if _, err := s.ExpandFanOuts(ctx, limit); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return s.ClaimQueued(ctx, now, lease, perHost, limit)
}

// ClaimQueued is ClaimDeliveries without expanding fan-outs: it leases
// only rows already queued. The delivery worker takes fan-outs apart
// (TakeFanOuts).
func (s *Store) ClaimQueued(ctx context.Context, now time.Time, lease time.Duration, perHost, limit int) ([]Delivery, error) {
	if s.pg {
		return s.claimDeliveriesPostgres(ctx, now, lease, perHost, limit)
	}
	var out []Delivery
	err := s.inBackground(ctx, func(tx *Tx) error {
		busy := map[string]int{}
		if err := queryEach(ctx, tx, busyHostsQuery, []any{toDB(now)}, func(sc scanner) error {
			var h string
			err := sc.Scan(&h)
			busy[h]++
			return err
		}); err != nil {
			return err
		}
		waiting, hosts, err := dueHosts(ctx, tx, now, limit+len(busy))
		if err != nil {
			return err
		}
		var ids []int64
		for _, h := range hosts {
			room := min(perHost-busy[h], limit-len(ids))
			if waiting[h] || room <= 0 {
				continue
			}
			if ids, err = appendHostDue(ctx, tx, ids, hostDueQuery, h, now, room); err != nil {
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

// dueHosts returns the hosts that asked us to wait (429 Retry-After) and
// the hosts with due, unleased deliveries, oldest first: up to extra more
// than the waiting ones, which the claim skips.
func dueHosts(ctx context.Context, tx *Tx, now time.Time, extra int) (waiting map[string]bool, hosts []string, err error) {
	waiting = map[string]bool{}
	if err := queryEach(ctx, tx, waitingHostsQuery, []any{toDB(now)}, func(sc scanner) error {
		var h string
		err := sc.Scan(&h)
		waiting[h] = true
		return err
	}); err != nil {
		return nil, nil, err
	}
	err = queryEach(ctx, tx, dueHostsQuery, []any{toDB(now), extra + len(waiting)}, func(sc scanner) error {
		var h string
		var due int64
		err := sc.Scan(&h, &due)
		hosts = append(hosts, h)
		return err
	})
	return waiting, hosts, err
}

// appendHostDue appends to ids those of up to room due deliveries of host
// that query (hostDueQuery or its locking form) selects.
func appendHostDue(ctx context.Context, tx *Tx, ids []int64, query, host string, now time.Time, room int) ([]int64, error) {
	err := queryEach(ctx, tx, query, []any{host, toDB(now), room}, func(sc scanner) error {
		var id int64
		err := sc.Scan(&id)
		ids = append(ids, id)
		return err
	})
	return ids, err
}

// lease leases the deliveries ids to this Store until until.
func (s *Store) lease(ctx context.Context, tx *Tx, ids []int64, until time.Time) ([]Delivery, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	var out []Delivery
	err = queryEach(ctx, tx, leaseQuery, []any{toDB(until), string(list), s.owner}, func(sc scanner) error {
		var d Delivery
		var next, queued int64
		err := sc.Scan(&d.ID, &d.ActivityID, &d.Inbox, &d.Host, &d.Attempts, &next, &queued, &d.LastError)
		d.NextAttemptAt, d.QueuedAt = fromDB(next), fromDB(queued)
		out = append(out, d)
		return err
	})
	return out, err
}

// queryEach runs a query in tx (prepared when it is one of
// hotWriteQueries) and calls fn for every row.
func queryEach(ctx context.Context, tx *Tx, query string, args []any, fn func(scanner) error) error {
	rows, err := tx.query(ctx, query, args...)
	if err != nil {
		return mapError(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return mapError(rows.Err())
}

// ReleaseClaims clears leases so their deliveries fall due at once: the
// delivering process calls it when it starts and when it stops. On SQLite,
// which one process uses at a time, it clears every lease, so deliveries
// claimed by a process that crashed are retried at once; on PostgreSQL,
// which several processes share, only this Store's: the others' run out
// unless renewed.
func (s *Store) ReleaseClaims(ctx context.Context) error {
	s.audiences.forget()
	for _, table := range []string{"deliveries", "fan_outs"} {
		query, args := `UPDATE `+table+` SET claimed_until = 0, claimed_by = '' WHERE claimed_until > 0`, []any{}
		if s.pg {
			query, args = `UPDATE `+table+` SET claimed_until = 0, claimed_by = '' WHERE claimed_by = ?`, []any{s.owner}
		}
		if _, err := s.write.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("release claims: %w", mapError(err))
		}
	}
	return nil
}

// RenewClaims extends this Store's leases that have not run out to
// now+lease. The delivering process calls it well within each lease, so
// its rows stay its own while it lives and fall to another process soon
// after it dies.
func (s *Store) RenewClaims(ctx context.Context, now time.Time, lease time.Duration) error {
	for _, table := range []string{"deliveries", "fan_outs"} {
		if _, err := s.write.ExecContext(ctx, `UPDATE `+table+` SET claimed_until = ? WHERE claimed_by = ? AND claimed_until > ?`,
			toDB(now.Add(lease)), s.owner, toDB(now)); err != nil {
			return fmt.Errorf("renew claims: %w", mapError(err))
		}
	}
	return nil
}

// Outcome is the result of one delivery attempt.
type Outcome struct {
	ID int64
	// FanOut, when not nil, is the delivery, taken from a fan-out without
	// a row (TakeFanOuts), that the outcome is of: its row is written
	// when it is to be retried or has failed, and nothing when it is done.
	FanOut *Delivery
	// Unsent: no attempt of the FanOut delivery was made; its row is
	// queued for NextAttemptAt, its attempts not counted.
	Unsent bool
	// Done: delivered (or permanently refused); the row is deleted.
	Done bool
	// Failed: given up; the row stays with state failed for the console.
	Failed bool
	// Otherwise retry at NextAttemptAt.
	NextAttemptAt time.Time
	Error         string
	// Kind (OutcomeDelivered, …) and At, when the attempt ended, count the
	// outcome in the hourly history the console charts; an outcome without
	// them is not counted.
	Kind string
	At   time.Time
}

// RecordOutcomes writes the outcomes of many attempts in one transaction.
// The outcomes of attempts, one statement per delivery, prepared once
// (hotWriteQueries): every delivery ends with one of them.
const (
	deliveredQuery      = `DELETE FROM deliveries WHERE id = ?`
	deliveryFailedQuery = `UPDATE deliveries SET state = 'failed', attempts = attempts + 1, claimed_until = 0, claimed_by = '', last_error = ? WHERE id = ?`
	deliveryRetryQuery  = `UPDATE deliveries SET attempts = attempts + 1, claimed_until = 0, claimed_by = '', next_attempt_at = ?, last_error = ? WHERE id = ?`
)

// It also writes how far the outcomes of fan-outs go (FanOutProgress),
// after the outcomes: a fan-out done is deleted.
func (s *Store) RecordOutcomes(ctx context.Context, outs []Outcome, progress ...FanOutProgress) error {
	if len(outs) == 0 && len(progress) == 0 {
		return nil
	}
	return s.inBackground(ctx, func(tx *Tx) error {
		for _, o := range outs {
			var err error
			switch {
			case o.FanOut != nil:
				err = tx.fanOutRow(ctx, o)
			case o.Done:
				_, err = tx.exec(ctx, deliveredQuery, o.ID)
			case o.Failed:
				_, err = tx.exec(ctx, deliveryFailedQuery, truncateText(o.Error), o.ID)
			default:
				_, err = tx.exec(ctx, deliveryRetryQuery, toDB(o.NextAttemptAt), truncateText(o.Error), o.ID)
			}
			if err != nil {
				return fmt.Errorf("record delivery %d: %w", o.ID, mapError(err))
			}
		}
		for _, p := range progress {
			var err error
			if p.Done {
				_, err = tx.exec(ctx, fanOutDoneQuery, p.ID, p.ActivityID)
			} else {
				_, err = tx.exec(ctx, fanOutDoneThroughQuery, p.DoneThrough, p.ID, p.ActivityID)
			}
			if err != nil {
				return fmt.Errorf("record fan-out %d: %w", p.ID, mapError(err))
			}
		}
		// The rows leave their lease, so their hosts may take more: the
		// other processes' claims, which found those hosts full, are worth
		// running again now rather than at their next poll.
		tx.queued = true
		return tx.countOutcomes(ctx, outs)
	})
}

// fanOutRow writes the row an outcome of a delivery taken from a fan-out
// leaves, if any.
func (tx *Tx) fanOutRow(ctx context.Context, o Outcome) error {
	d := o.FanOut
	state, attempts := "queued", d.Attempts+1
	switch {
	case o.Done:
		return nil
	case o.Failed:
		state = "failed"
	case o.Unsent:
		attempts = d.Attempts
	}
	_, err := tx.exec(ctx, fanOutRowQuery, d.ActivityID, d.Inbox, d.Host, state, attempts,
		toDB(o.NextAttemptAt), toDB(d.QueuedAt), truncateText(o.Error), d.FanOut)
	return err
}

// HostResult is what one attempt taught us about a host.
type HostResult struct {
	Host    string
	At      time.Time
	OK      bool
	Error   string
	Wait    time.Time // Retry-After: claim nothing for this host before Wait
	GiveUp  time.Duration
	MaxFail int
}

// Host is the delivery health of one remote host.
type Host struct {
	Host                string
	LastSuccessAt       time.Time
	LastFailureAt       time.Time
	ConsecutiveFailures int
	FailingSince        time.Time
	Unreachable         bool
	RetryAfterUntil     time.Time
	LastError           string
}

const hostSuccessQuery = `
	INSERT INTO hosts (host, last_success_at) VALUES (?1, ?2)
	ON CONFLICT (host) DO UPDATE SET last_success_at = ?2, consecutive_failures = 0, failing_since = 0, unreachable = 0, last_error = ''`

const hostFailureQuery = `
	INSERT INTO hosts (host, last_failure_at, consecutive_failures, failing_since, retry_after_until, last_error)
	VALUES (?1, ?2, 1, ?2, ?3, ?4)
	ON CONFLICT (host) DO UPDATE SET last_failure_at = ?2, consecutive_failures = hosts.consecutive_failures + 1,
		failing_since = CASE WHEN hosts.failing_since = 0 THEN ?2 ELSE hosts.failing_since END,
		retry_after_until = CASE WHEN hosts.retry_after_until > ?3 THEN hosts.retry_after_until ELSE ?3 END, last_error = ?4`

const markUnreachableQuery = `
	UPDATE hosts SET unreachable = 1
	WHERE host = ?1 AND failing_since > 0 AND failing_since <= ?2 AND consecutive_failures >= ?3`

// RecordHostResults updates host health: a success revives a host; a host
// failing since before now-GiveUp with at least MaxFail failures in a row is
// marked unreachable.
func (s *Store) RecordHostResults(ctx context.Context, results []HostResult) error {
	if len(results) == 0 {
		return nil
	}
	return s.inBackground(ctx, func(tx *Tx) error {
		for _, r := range results {
			if r.OK {
				if _, err := tx.exec(ctx, hostSuccessQuery, r.Host, toDB(r.At)); err != nil {
					return fmt.Errorf("record success of %s: %w", r.Host, mapError(err))
				}
				continue
			}
			if _, err := tx.exec(ctx, hostFailureQuery, r.Host, toDB(r.At), toDB(r.Wait), truncateText(r.Error)); err != nil {
				return fmt.Errorf("record failure of %s: %w", r.Host, mapError(err))
			}
			if r.GiveUp > 0 {
				if _, err := tx.tx.ExecContext(ctx, markUnreachableQuery, r.Host, toDB(r.At.Add(-r.GiveUp)), r.MaxFail); err != nil {
					return fmt.Errorf("mark %s unreachable: %w", r.Host, mapError(err))
				}
			}
		}
		return nil
	})
}

// ReviveHost clears the unreachable mark of a host, for example when it
// sends us a valid signed activity.
func (s *Store) ReviveHost(ctx context.Context, host string) error {
	// Read first: the inbox calls this for every request, and almost no
	// host is unreachable, so most calls need no write lock at all.
	var n int
	if err := s.readRow(ctx, `SELECT COUNT(*) FROM hosts WHERE host = ? AND unreachable = 1`, host).Scan(&n); err != nil {
		return fmt.Errorf("revive %s: %w", host, err)
	}
	if n == 0 {
		return nil
	}
	if _, err := s.write.ExecContext(ctx, `UPDATE hosts SET unreachable = 0, consecutive_failures = 0, failing_since = 0 WHERE host = ? AND unreachable = 1`, host); err != nil {
		return fmt.Errorf("revive %s: %w", host, mapError(err))
	}
	return nil
}

// HostByName returns the health of a host, or ErrNotFound.
func (s *Store) HostByName(ctx context.Context, host string) (Host, error) {
	var h Host
	var ls, lf, fs, ra int64
	err := s.read.QueryRowContext(ctx, `SELECT host, last_success_at, last_failure_at, consecutive_failures, failing_since, unreachable, retry_after_until, last_error FROM hosts WHERE host = ?`, host).
		Scan(&h.Host, &ls, &lf, &h.ConsecutiveFailures, &fs, &h.Unreachable, &ra, &h.LastError)
	if err != nil {
		return Host{}, fmt.Errorf("host %s: %w", host, mapError(err))
	}
	h.LastSuccessAt, h.LastFailureAt, h.FailingSince, h.RetryAfterUntil = fromDB(ls), fromDB(lf), fromDB(fs), fromDB(ra)
	return h, nil
}

// QueueStats counts queued and failed deliveries, each from the index on
// state rather than the table (FLT-13).
func (s *Store) QueueStats(ctx context.Context) (queued, failed int, err error) {
	err = s.read.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM deliveries WHERE state = 'queued'), (SELECT COUNT(*) FROM deliveries WHERE state = 'failed')`).Scan(&queued, &failed)
	if err != nil {
		return 0, 0, fmt.Errorf("queue stats: %w", err)
	}
	return queued, failed, nil
}

// NextDue returns when the earliest queued delivery falls due, or the zero
// time when the queue is empty.
func (s *Store) NextDue(ctx context.Context) (time.Time, error) {
	var ms int64
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MIN(next_attempt_at), 0) FROM deliveries WHERE state = 'queued'`).Scan(&ms); err != nil {
		return time.Time{}, fmt.Errorf("next due delivery: %w", err)
	}
	return fromDB(ms), nil
}

func truncateText(s string) string {
	if len(s) > 500 {
		return s[:500]
	}
	return s
}
