package storage

import (
	"context"
	"fmt"
	"time"
)

// Fan-outs (issue 13, migration 0025). An activity for a community's
// followers becomes one delivery per follower inbox: with 1,000 followers
// on 100 hosts, 130 rows for a post's two Announces, each entering four
// indexes. Written in the post's transaction, they made the post, and
// every post sharing its group commit, wait for all of them. So the post's
// transaction queues one fan-out row instead, and ExpandFanOuts turns it
// into deliveries afterwards, a few fan-outs per transaction, so posts
// coming in meanwhile wait for at most a few.
//
// Expanding reads the followers, the hosts marked unreachable and the
// federation policy as they are then, not as they were when the post came
// in: a follower gone meanwhile gets nothing, a host blocked meanwhile
// gets nothing. Every claim of deliveries first expands the oldest
// fan-outs, enough of them for the rows it asks for; the rows of a
// fan-out are due from the time it was queued.

const (
	queueFanOutQuery = `INSERT INTO fan_outs (activity_id, community_id, family, queued_at) VALUES (?, ?, ?, ?)`
	lastFanOutQuery  = `SELECT COALESCE(MAX(id), 0) FROM fan_outs`
	// takeFanOutsQuery deletes the oldest fan-outs and returns them; on
	// PostgreSQL other processes' expansions skip the rows it took.
	takeFanOutsQuery = `
		DELETE FROM fan_outs WHERE id IN (SELECT id FROM fan_outs WHERE id <= ?1 ORDER BY id LIMIT ?2)
		RETURNING activity_id, community_id, family, queued_at`
	takeFanOutsPostgresQuery = `
		DELETE FROM fan_outs WHERE id IN (SELECT id FROM fan_outs WHERE id <= ?1 ORDER BY id LIMIT ?2 FOR UPDATE SKIP LOCKED)
		RETURNING activity_id, community_id, family, queued_at`
)

// fanOutsPerTx is how many fan-outs one expanding transaction takes: with
// 130 inboxes each, about 4 ms of the writer per fan-out on the 2-core
// machine of the README, so a post arriving meanwhile waits for ~8 ms
// more at worst.
const fanOutsPerTx = 2

// QueueFanOut queues activityID for every accepted follower of a community
// on hosts of family (and on hosts whose family is not known; all of them
// for FamilyUnknown), collapsed onto shared inboxes when it is expanded
// (ExpandFanOuts). It reports whether anything was queued: nothing is for
// a community without followers.
func (tx *Tx) QueueFanOut(ctx context.Context, activityID, communityID int64, family Family, now time.Time) (bool, error) {
	if has, err := tx.hasFollowers(ctx, communityID); err != nil || !has {
		return false, err
	}
	if _, err := tx.exec(ctx, queueFanOutQuery, activityID, communityID, string(family), toDB(now)); err != nil {
		return false, fmt.Errorf("queue fan-out of %d: %w", activityID, mapError(err))
	}
	tx.queued = true
	return true, nil
}

// ExpandFanOuts turns fan-outs into deliveries, oldest first and a few per
// transaction, until rows deliveries have been queued or no fan-out queued
// before the call is left (rows ≤ 0: all of them), and returns how many
// fan-outs it expanded. Each fan-out's deliveries are due from when it
// was queued.
//
// A claim asks for the rows it wants, not for every fan-out: after a burst
// of posts, 500 fan-outs of 130 inboxes took 1.3 s to expand at once, a
// time no delivery started in (issue 13).
func (s *Store) ExpandFanOuts(ctx context.Context, rows int) (int, error) {
	var last int64
	if err := s.read.QueryRowContext(ctx, lastFanOutQuery).Scan(&last); err != nil {
		return 0, fmt.Errorf("fan-outs: %w", mapError(err))
	}
	expanded, queued := 0, 0
	for last > 0 && (rows <= 0 || queued < rows) {
		n, q, err := s.expandFanOuts(ctx, last)
		expanded += n
		queued += q
		if err != nil || n < fanOutsPerTx {
			return expanded, err
		}
	}
	return expanded, nil
}

// expandFanOuts expands up to fanOutsPerTx of the fan-outs numbered up to
// last in one transaction, and returns how many it took and how many
// deliveries it queued.
func (s *Store) expandFanOuts(ctx context.Context, last int64) (taken, queued int, err error) {
	type fanOut struct {
		activityID, communityID int64
		family                  Family
		queuedAt                int64
	}
	query := takeFanOutsQuery
	if s.pg {
		query = takeFanOutsPostgresQuery
	}
	err = s.inBackground(ctx, func(tx *Tx) error {
		taken, queued = 0, 0
		var fs []fanOut
		if err := queryEach(ctx, tx, query, []any{last, fanOutsPerTx}, func(sc scanner) error {
			var f fanOut
			var family string
			err := sc.Scan(&f.activityID, &f.communityID, &family, &f.queuedAt)
			f.family = Family(family)
			fs = append(fs, f)
			return err
		}); err != nil {
			return err
		}
		taken = len(fs)
		for _, f := range fs {
			refused, err := tx.refusedFollowerHosts(ctx, f.communityID)
			if err != nil {
				return fmt.Errorf("deliveries of fan-out of %d: %w", f.activityID, err)
			}
			res, err := tx.exec(ctx, enqueueFollowersQuery, f.activityID, f.queuedAt, f.communityID, "[]", string(f.family), refused)
			if err != nil {
				return fmt.Errorf("deliveries of fan-out of %d: %w", f.activityID, mapError(err))
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("deliveries of fan-out of %d: %w", f.activityID, mapError(err))
			}
			queued += int(n)
		}
		tx.queued = taken > 0
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("expand fan-outs: %w", err)
	}
	s.queuedDeliveries(queued)
	return taken, queued, nil
}

// analyzeDeliveriesAfter is how many deliveries the fan-outs of one
// process queue on PostgreSQL before it renews the planner's statistics of
// the table. The queue is often empty, and analyzed so, when a burst of
// posts fills it; until autovacuum analyzed it again (up to a minute or
// more), the planner took the table for empty and read the due rows of a
// host through the index on (state, next_attempt_at), every due row for
// each host: claims took 1.8 s instead of 20-60 ms, and deliveries went
// at ~1,000/s instead of ~3,000 (issue 13, coppice-load fanout with 500
// posts, one process).
const analyzeDeliveriesAfter = 20_000

// queuedDeliveries counts n deliveries queued by fan-outs, and once
// analyzeDeliveriesAfter are counted, has PostgreSQL analyze the table in
// the background (one ANALYZE at a time; Close waits for it).
func (s *Store) queuedDeliveries(n int) {
	if !s.pg || s.analyze.queued.Add(int64(n)) < analyzeDeliveriesAfter || !s.analyze.running.CompareAndSwap(false, true) {
		return
	}
	s.analyze.queued.Store(0)
	s.analyze.done.Go(func() {
		defer s.analyze.running.Store(false)
		// A failed ANALYZE leaves the statistics as they were, for
		// autovacuum to renew.
		_, _ = s.write.ExecContext(context.Background(), `ANALYZE deliveries`)
	})
}
