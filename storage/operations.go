package storage

import (
	"context"
	"fmt"
	"time"
)

// Outcome kinds, as counted per hour in delivery_hours.
const (
	OutcomeDelivered = "delivered" // the inbox answered 2xx
	OutcomeDropped   = "dropped"   // the inbox is gone (404, 410)
	OutcomeRetried   = "retried"   // tried again later
	OutcomeFailed    = "failed"    // refused or given up
)

// historyKept is how long hourly delivery counts and queue samples are kept.
const historyKept = 30 * 24 * time.Hour

// hourOf is the start of the UTC hour of t, as stored.
func hourOf(t time.Time) int64 { return toDB(t.UTC().Truncate(time.Hour)) }

const countOutcomeQuery = `
	INSERT INTO delivery_hours (hour, outcome, count) VALUES (?, ?, ?)
	ON CONFLICT (hour, outcome) DO UPDATE SET count = delivery_hours.count + excluded.count`

// countOutcomes adds outcomes that carry a Kind and a time to the hourly
// counts, inside the transaction that records them.
func (tx *Tx) countOutcomes(ctx context.Context, outs []Outcome) error {
	type key struct {
		hour int64
		kind string
	}
	counts := map[key]int{}
	var order []key
	for _, o := range outs {
		if o.Kind == "" || o.At.IsZero() {
			continue
		}
		k := key{hourOf(o.At), o.Kind}
		if counts[k] == 0 {
			order = append(order, k)
		}
		counts[k]++
	}
	for _, k := range order {
		if _, err := tx.tx.ExecContext(ctx, countOutcomeQuery, k.hour, k.kind, counts[k]); err != nil {
			return fmt.Errorf("count %s deliveries: %w", k.kind, mapError(err))
		}
	}
	return nil
}

// DeliveryHour is how many delivery attempts of one outcome ended in one
// hour.
type DeliveryHour struct {
	Hour    time.Time // start of the UTC hour
	Outcome string    // OutcomeDelivered, …
	Count   int
}

const deliveryHoursQuery = `
	SELECT hour, outcome, count FROM delivery_hours WHERE hour >= ? ORDER BY hour, outcome`

// DeliveryHours returns the hourly outcome counts from the hour of since on.
// Hours without attempts have no rows.
func (s *Store) DeliveryHours(ctx context.Context, since time.Time) ([]DeliveryHour, error) {
	rows, err := s.read.QueryContext(ctx, deliveryHoursQuery, hourOf(since))
	if err != nil {
		return nil, fmt.Errorf("delivery hours: %w", err)
	}
	defer rows.Close()
	var out []DeliveryHour
	for rows.Next() {
		var d DeliveryHour
		var hour int64
		if err := rows.Scan(&hour, &d.Outcome, &d.Count); err != nil {
			return nil, fmt.Errorf("delivery hours: %w", err)
		}
		d.Hour = fromDB(hour)
		out = append(out, d)
	}
	return out, rows.Err()
}

const (
	queuedCountQuery = `SELECT COUNT(*) FROM deliveries WHERE state = 'queued'`
	sampleQueueQuery = `
		INSERT INTO queue_depth_hours (hour, depth) VALUES (?, ?)
		ON CONFLICT (hour) DO UPDATE SET depth = CASE WHEN queue_depth_hours.depth > excluded.depth THEN queue_depth_hours.depth ELSE excluded.depth END`
	pruneQueueSamplesQuery  = `DELETE FROM queue_depth_hours WHERE hour < ?`
	pruneDeliveryHoursQuery = `DELETE FROM delivery_hours WHERE hour < ?`
	queueDepthHoursQuery    = `SELECT hour, depth FROM queue_depth_hours WHERE hour >= ? ORDER BY hour`
)

// SampleQueueDepth records the number of queued deliveries at now; each
// hour keeps its largest sample. It also deletes samples and hourly counts
// older than 30 days.
//
// The queue is counted on a reader before the write: counting a million
// queued rows takes ~60 ms, which the writer, and every inbox waiting on
// it, should not wait for (FLT-13).
func (s *Store) SampleQueueDepth(ctx context.Context, now time.Time) error {
	var depth int
	if err := s.read.QueryRowContext(ctx, queuedCountQuery).Scan(&depth); err != nil {
		return fmt.Errorf("sample queue depth: %w", err)
	}
	return s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, sampleQueueQuery, hourOf(now), depth); err != nil {
			return fmt.Errorf("sample queue depth: %w", mapError(err))
		}
		old := hourOf(now.Add(-historyKept))
		if _, err := tx.tx.ExecContext(ctx, pruneQueueSamplesQuery, old); err != nil {
			return fmt.Errorf("prune queue samples: %w", mapError(err))
		}
		if _, err := tx.tx.ExecContext(ctx, pruneDeliveryHoursQuery, old); err != nil {
			return fmt.Errorf("prune delivery hours: %w", mapError(err))
		}
		return nil
	})
}

// QueueDepthHour is the largest queue depth sampled in one hour.
type QueueDepthHour struct {
	Hour  time.Time
	Depth int
}

// QueueDepthHours returns the hourly queue samples from the hour of since
// on. Hours without a sample have no rows.
func (s *Store) QueueDepthHours(ctx context.Context, since time.Time) ([]QueueDepthHour, error) {
	rows, err := s.read.QueryContext(ctx, queueDepthHoursQuery, hourOf(since))
	if err != nil {
		return nil, fmt.Errorf("queue depth hours: %w", err)
	}
	defer rows.Close()
	var out []QueueDepthHour
	for rows.Next() {
		var q QueueDepthHour
		var hour int64
		if err := rows.Scan(&hour, &q.Depth); err != nil {
			return nil, fmt.Errorf("queue depth hours: %w", err)
		}
		q.Hour = fromDB(hour)
		out = append(out, q)
	}
	return out, rows.Err()
}

// QueueState is the delivery queue and host health at one moment.
type QueueState struct {
	Queued, Failed int
	// FanOuts are activities queued for the followers (QueueFanOut), one
	// per activity, whose deliveries are not all done.
	FanOuts int
	// OldestDue is when the longest-waiting due, unclaimed delivery fell
	// due, or the oldest fan-out was queued (its deliveries are due from
	// then); zero when none is waiting.
	OldestDue        time.Time
	FailingHosts     int
	UnreachableHosts int
}

// queueStateQuery reads each figure from an index (on state and
// next_attempt_at): summing over the table read every row, 0.3 s for a
// queue of a million (2 s from a cold cache) at every metrics scrape and
// delivery health check (FLT-13). The fan-outs are read whole: the
// table holds only those not expanded yet, a few at most.
const (
	queueStateQuery = `
		SELECT (SELECT COUNT(*) FROM deliveries WHERE state = 'queued'),
			(SELECT COUNT(*) FROM deliveries WHERE state = 'failed'),
			(SELECT COALESCE(MIN(next_attempt_at), 0) FROM deliveries
				WHERE state = 'queued' AND next_attempt_at <= ?1 AND claimed_until <= ?1),
			(SELECT COUNT(*) FROM fan_outs),
			(SELECT COALESCE(MIN(queued_at), 0) FROM fan_outs WHERE queued_at <= ?1)`
	hostHealthQuery = `
		SELECT COALESCE(SUM(CASE WHEN consecutive_failures > 0 OR unreachable = 1 THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN unreachable = 1 THEN 1 ELSE 0 END), 0)
		FROM hosts`
)

// QueueState reads the queue and the host health as of now.
func (s *Store) QueueState(ctx context.Context, now time.Time) (QueueState, error) {
	var q QueueState
	var oldest, oldestFanOut int64
	if err := s.read.QueryRowContext(ctx, queueStateQuery, toDB(now)).Scan(&q.Queued, &q.Failed, &oldest, &q.FanOuts, &oldestFanOut); err != nil {
		return QueueState{}, fmt.Errorf("queue state: %w", err)
	}
	if oldest == 0 || (oldestFanOut != 0 && oldestFanOut < oldest) {
		oldest = oldestFanOut
	}
	q.OldestDue = fromDB(oldest)
	if err := s.read.QueryRowContext(ctx, hostHealthQuery).Scan(&q.FailingHosts, &q.UnreachableHosts); err != nil {
		return QueueState{}, fmt.Errorf("host health: %w", err)
	}
	return q, nil
}

// DayCount is a count for one UTC day.
type DayCount struct {
	Day   time.Time // midnight UTC
	Count int
}

const (
	postsPerDayQuery = `
		SELECT published / 86400000 * 86400000 AS day, COUNT(*) FROM posts
		WHERE community_id = ?1 AND published >= ?2 AND published < ?3 AND deleted_at = 0
		GROUP BY day ORDER BY day`
	newMembersPerDayQuery = `
		SELECT created_at / 86400000 * 86400000 AS day, COUNT(*) FROM follows
		WHERE community_id = ?1 AND state = 'accepted' AND created_at >= ?2 AND created_at < ?3
		GROUP BY day ORDER BY day`
)

// PostsPerDay counts the community's posts (not deleted) by the UTC day
// they were published, for days from since to until. Days without posts
// have no rows.
func (s *Store) PostsPerDay(ctx context.Context, communityID int64, since, until time.Time) ([]DayCount, error) {
	return s.dayCounts(ctx, postsPerDayQuery, communityID, since, until)
}

// NewMembersPerDay counts the community's current members by the UTC day
// their follow arrived, for days from since to until.
func (s *Store) NewMembersPerDay(ctx context.Context, communityID int64, since, until time.Time) ([]DayCount, error) {
	return s.dayCounts(ctx, newMembersPerDayQuery, communityID, since, until)
}

func (s *Store) dayCounts(ctx context.Context, query string, communityID int64, since, until time.Time) ([]DayCount, error) {
	rows, err := s.read.QueryContext(ctx, query, communityID, toDB(since), toDB(until))
	if err != nil {
		return nil, fmt.Errorf("counts per day of community %d: %w", communityID, err)
	}
	defer rows.Close()
	var out []DayCount
	for rows.Next() {
		var d DayCount
		var day int64
		if err := rows.Scan(&day, &d.Count); err != nil {
			return nil, fmt.Errorf("counts per day of community %d: %w", communityID, err)
		}
		d.Day = fromDB(day)
		out = append(out, d)
	}
	return out, rows.Err()
}

// Ping checks that the database answers a query on a read connection and
// that the writer connection is open.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database writer: %w", err)
	}
	return nil
}

// CountClaimed counts the deliveries whose claim has not run out at now.
func (s *Store) CountClaimed(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE claimed_until > ? AND claimed_until > 0`, toDB(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count claimed deliveries: %w", err)
	}
	return n, nil
}
