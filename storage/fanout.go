package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fan-outs (issue 13, migration 0025). An activity for a community's
// followers becomes one delivery per follower inbox: with 1,000 followers
// on 100 hosts, 130 rows for a post's two Announces, each entering four
// indexes. Written in the post's transaction, they made the post, and
// every post sharing its group commit, wait for all of them. So the post's
// transaction queues one fan-out row instead. The delivery worker takes
// it apart (TakeFanOuts, below) and sends it from memory; ExpandFanOuts
// turns fan-outs into rows, a few per transaction, for ClaimDeliveries
// and for those who want rows to look at.
//
// Taking or expanding reads the followers, the hosts marked unreachable
// and the federation policy as they are then, not as they were when the
// post came in: a follower gone meanwhile gets nothing, a host blocked
// meanwhile gets nothing. The deliveries of a fan-out are due from the
// time it was queued.

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

// Taking fan-outs (migration 0031). The delivering process does not turn a
// fan-out into rows to claim and delete again: each row cost its
// insertion, its lease and its deletion, ~17 B-tree changes over the table
// and its indexes, ~38 µs of the ~100 µs a delivery cost beyond its
// signature on the README's machine (issue 13). TakeFanOuts leases a
// fan-out instead and returns its inboxes as deliveries without rows
// (Delivery.FanOut), which the worker sends from memory, as many as it has
// room for; it resumes after the last one taken (cut) in later takes. An
// attempt that must be retried, fails, or was never made writes its row
// then (RecordOutcomes); a delivered attempt writes nothing. The worker
// records how far the outcomes go (FanOutProgress); the fan-out's row is
// deleted with the last of them.
//
// A process that dies leaves its fan-outs leased; once the lease runs out
// (at once on SQLite, whose one delivering process releases every lease
// when it starts) the next take sends again the inboxes after done_through
// up to cut that have no row (those in flight at the death, and those
// whose outcome was not yet written), then goes on after cut. At worst an
// inbox gets the activity twice (SECURITY.md FLT-07), as with rows.
const (
	fanOutsDueQuery = `
		SELECT id, activity_id, community_id, family, queued_at, COALESCE(cut, ''), done_through
		FROM fan_outs WHERE claimed_until <= ?1 ORDER BY id LIMIT ?2`
	fanOutsDuePostgresQuery = fanOutsDueQuery + ` FOR UPDATE SKIP LOCKED`
	leaseFanOutQuery        = `UPDATE fan_outs SET claimed_until = ?1, claimed_by = ?2, cut = ?3 WHERE id = ?4`
	dropFanOutQuery         = `DELETE FROM fan_outs WHERE id = ?`
	// fanOutAudienceQuery selects the inboxes a fan-out of a community
	// goes to, as enqueueFollowersQuery does.
	fanOutAudienceQuery = `
		SELECT target.delivery_inbox, target.host
		FROM (SELECT DISTINCT a.delivery_inbox, a.delivery_host AS host
			FROM follows f JOIN actors a ON a.iri = f.actor_iri
			WHERE f.community_id = ?1 AND f.state = 'accepted') AS target
		WHERE target.host NOT IN (SELECT host FROM hosts WHERE unreachable = 1)
			AND target.host NOT IN (SELECT value FROM json_each(?2))
			AND (?3 = '' OR COALESCE((SELECT family FROM host_software hs WHERE hs.host = target.host), '') IN (?3, ''))`
	// queuedInboxesQuery lists the inboxes an activity has rows for.
	queuedInboxesQuery = `SELECT inbox FROM deliveries WHERE activity_id = ?`
	// fanOutRowQuery writes the row of a delivery sent from a fan-out:
	// after an attempt to retry or a failure, or for one never made. A
	// fan-out dropped meanwhile (its activity withdrawn or deleted) gets
	// none.
	fanOutRowQuery = `
		INSERT INTO deliveries (activity_id, inbox, host, state, attempts, next_attempt_at, queued_at, last_error)
		SELECT CAST(?1 AS BIGINT), CAST(?2 AS TEXT), CAST(?3 AS TEXT), CAST(?4 AS TEXT), CAST(?5 AS INTEGER),
			CAST(?6 AS BIGINT), CAST(?7 AS BIGINT), CAST(?8 AS TEXT)
		WHERE EXISTS (SELECT 1 FROM fan_outs WHERE id = ?9 AND activity_id = ?1)
		ON CONFLICT (activity_id, inbox) DO NOTHING`
	// A fan-out is named by its id and its activity's: SQLite gives the id
	// of a deleted last row to the next, and a fan-out withdrawn while its
	// deliveries were out must not pass its progress to its successor.
	fanOutDoneThroughQuery = `UPDATE fan_outs SET done_through = ? WHERE id = ? AND activity_id = ?`
	fanOutDoneQuery        = `DELETE FROM fan_outs WHERE id = ? AND activity_id = ?`
)

// fanOutsPerTake is the most due fan-outs one take leases.
const fanOutsPerTake = 16

// resumedFanOutsQuery reads fan-outs this process holds, to take more of.
const resumedFanOutsQuery = `
	SELECT id, activity_id, community_id, family, queued_at, COALESCE(cut, ''), done_through
	FROM fan_outs WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each(?1)) AND claimed_by = ?2 ORDER BY id`

// FanOutRef names a fan-out: its id and its activity's (an id alone may
// name a later fan-out once the first is deleted).
type FanOutRef struct{ ID, ActivityID int64 }

// Taken is what TakeFanOuts took.
type Taken struct {
	// Deliveries are sent from memory: Delivery.FanOut and Seq (the place
	// among the inboxes this take gave of that fan-out) are set, ID is 0.
	Deliveries []Delivery
	// More lists the fan-outs with inboxes after those taken, to resume
	// in a later take; Ended, the fan-outs asked to resume that had none
	// left. A fan-out in neither was taken to its end.
	More, Ended []FanOutRef
}

// TakeFanOuts takes up to room inboxes of fan-outs as deliveries without
// rows: first more of the fan-outs in resume (held by this Store, from
// earlier takes that listed them in Taken.More), then of due fan-outs,
// oldest first, which it leases until now+lease. Each fan-out's inboxes
// come in order: a later take resumes after the last one taken (cut),
// so a fan-out bigger than the room goes out over several takes, none of
// it as rows. A due fan-out taken before (its process died, its lease ran
// out) is sent again from its recorded progress (done_through) to its
// cut, without the inboxes that have rows, and then beyond. A due
// fan-out with nothing to send is deleted. RenewClaims and ReleaseClaims
// cover the leases as they do the rows'.
//
// The inboxes of a community's fan-outs of one family are read once per
// take: reading them joins every follower to its actor (~0.5 ms for 1,000
// followers), and a take holds several fan-outs of one community. A
// fan-out resumed goes on to the inboxes read at its first take: with its
// followers on 1,000 hosts, a fan-out spans ~5 takes, and reading them
// again at each took 4% of the server's CPU (issue 13). Whoever followed
// when the fan-out started gets it; a later follow, unfollow or block
// counts from the next fan-out (a blocked host is refused at the door
// anyway: fetch.Poster checks the federation policy on every request).
func (s *Store) TakeFanOuts(ctx context.Context, now time.Time, lease time.Duration, room int, resume ...FanOutRef) (Taken, error) {
	if room <= 0 {
		return Taken{More: resume}, nil
	}
	query := fanOutsDueQuery
	if s.pg {
		query = fanOutsDuePostgresQuery
	}
	var out Taken
	err := s.inBackground(ctx, func(tx *Tx) error {
		out = Taken{}
		scan := func(resumed bool, fs *[]takenFanOut) func(sc scanner) error {
			return func(sc scanner) error {
				f := takenFanOut{resumed: resumed}
				var family string
				err := sc.Scan(&f.id, &f.activityID, &f.communityID, &family, &f.queuedAt, &f.cut, &f.doneThrough)
				f.family = Family(family)
				*fs = append(*fs, f)
				return err
			}
		}
		var fs []takenFanOut
		if len(resume) > 0 {
			ids := make([]int64, len(resume))
			for i, r := range resume {
				ids[i] = r.ID
			}
			list, err := json.Marshal(ids)
			if err != nil {
				return err
			}
			if err := queryEach(ctx, tx, resumedFanOutsQuery, []any{string(list), s.owner}, scan(true, &fs)); err != nil {
				return err
			}
			// Those gone (withdrawn, or their id taken by a later one)
			// have ended.
			fs = slices.DeleteFunc(fs, func(f takenFanOut) bool { return !slices.Contains(resume, f.ref()) })
			for _, r := range resume {
				if !slices.ContainsFunc(fs, func(f takenFanOut) bool { return f.ref() == r }) {
					out.Ended = append(out.Ended, r)
				}
			}
		}
		held := len(fs)
		if err := queryEach(ctx, tx, query, []any{toDB(now), fanOutsPerTake}, scan(false, &fs)); err != nil {
			return err
		}
		audiences := map[audienceKey][]fanOutTarget{}
		kept := s.audiences.take(now, resume)
		for i, f := range fs {
			left := room - len(out.Deliveries)
			if left <= 0 {
				// Room for none: the held fan-outs wait for the next take.
				for _, f := range fs[min(i, held):held] {
					out.More = append(out.More, f.ref())
					if a, ok := kept[f.ref()]; ok {
						s.audiences.keep(f.ref(), a, now)
					}
				}
				break
			}
			k := audienceKey{f.communityID, f.family}
			audience, ok := kept[f.ref()]
			if !ok {
				audience, ok = audiences[k]
			}
			if !ok {
				var err error
				if audience, err = tx.fanOutAudience(ctx, f.communityID, f.family); err != nil {
					return fmt.Errorf("take fan-out of %d: %w", f.activityID, err)
				}
				audiences[k] = audience
			}
			ds, more, err := tx.takeFanOut(ctx, f, audience, left)
			if err != nil {
				return fmt.Errorf("take fan-out of %d: %w", f.activityID, err)
			}
			switch {
			case more:
				out.More = append(out.More, f.ref())
				s.audiences.keep(f.ref(), audience, now)
			case len(ds) == 0 && f.resumed:
				// Its outcomes may still be on their way: the worker
				// deletes it with the last of them.
				out.Ended = append(out.Ended, f.ref())
				continue
			case len(ds) == 0:
				if _, err := tx.exec(ctx, dropFanOutQuery, f.id); err != nil {
					return fmt.Errorf("take fan-out of %d: %w", f.activityID, mapError(err))
				}
				continue
			}
			cut := f.cut
			if len(ds) > 0 && ds[len(ds)-1].Inbox > cut {
				cut = ds[len(ds)-1].Inbox
			}
			if _, err := tx.exec(ctx, leaseFanOutQuery, toDB(now.Add(lease)), s.owner, cut, f.id); err != nil {
				return fmt.Errorf("take fan-out of %d: %w", f.activityID, mapError(err))
			}
			out.Deliveries = append(out.Deliveries, ds...)
		}
		return nil
	})
	if err != nil {
		return Taken{}, fmt.Errorf("take fan-outs: %w", err)
	}
	return out, nil
}

type takenFanOut struct {
	id, activityID, communityID int64
	family                      Family
	queuedAt                    int64
	cut, doneThrough            string // "" for none
	resumed                     bool   // held by this Store, taken before
}

func (f takenFanOut) ref() FanOutRef { return FanOutRef{f.id, f.activityID} }

type audienceKey struct {
	communityID int64
	family      Family
}

// audienceBook keeps the inboxes of the fan-outs a take left to resume,
// for the take that resumes them. An entry is handed out once: a take
// that leaves the fan-out to resume again keeps it anew, and one not
// resumed within audienceKept (its process stopped asking) is forgotten.
type audienceBook struct {
	mu   sync.Mutex
	kept map[FanOutRef]keptAudience
}

type keptAudience struct {
	targets []fanOutTarget // shared, never changed
	at      time.Time
}

// audienceKept bounds how long an audience waits to be resumed: well
// beyond a take (the worker resumes its fan-outs as its room frees up).
const audienceKept = 10 * time.Minute

func newAudienceBook() *audienceBook { return &audienceBook{kept: map[FanOutRef]keptAudience{}} }

// take removes and returns the audiences of refs, and forgets those kept
// for longer than audienceKept.
func (b *audienceBook) take(now time.Time, refs []FanOutRef) map[FanOutRef][]fanOutTarget {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[FanOutRef][]fanOutTarget{}
	for _, r := range refs {
		if k, ok := b.kept[r]; ok {
			out[r] = k.targets
			delete(b.kept, r)
		}
	}
	for r, k := range b.kept {
		if now.Sub(k.at) > audienceKept {
			delete(b.kept, r)
		}
	}
	return out
}

func (b *audienceBook) keep(r FanOutRef, targets []fanOutTarget, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.kept[r] = keptAudience{targets, now}
}

// forget drops every kept audience: the fan-outs' leases were released.
func (b *audienceBook) forget() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.kept)
}

type fanOutTarget struct{ inbox, host string }

// fanOutAudience returns the inboxes a community's fan-outs of family go
// to, in the order of their bytes (Go's, whatever the database's
// collation), which cut and done_through refer to.
func (tx *Tx) fanOutAudience(ctx context.Context, communityID int64, family Family) ([]fanOutTarget, error) {
	refused, err := tx.refusedFollowerHosts(ctx, communityID)
	if err != nil {
		return nil, err
	}
	var out []fanOutTarget
	if err := queryEach(ctx, tx, fanOutAudienceQuery, []any{communityID, refused, string(family)}, func(sc scanner) error {
		var tg fanOutTarget
		err := sc.Scan(&tg.inbox, &tg.host)
		out = append(out, tg)
		return err
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b fanOutTarget) int { return strings.Compare(a.inbox, b.inbox) })
	return out, nil
}

// takeFanOut returns the deliveries of f to send from audience, in order,
// without the inboxes its activity has rows for: a resumed fan-out's
// after its cut, up to left; another's after done_through, those up to
// its cut (taken before by a process that died) all, and after it up to
// left. more says whether inboxes are left after those returned.
func (tx *Tx) takeFanOut(ctx context.Context, f takenFanOut, audience []fanOutTarget, left int) (ds []Delivery, more bool, err error) {
	queued := map[string]bool{}
	if err := queryEach(ctx, tx, queuedInboxesQuery, []any{f.activityID}, func(sc scanner) error {
		var inbox string
		err := sc.Scan(&inbox)
		queued[inbox] = true
		return err
	}); err != nil {
		return nil, false, err
	}
	from := f.doneThrough
	if f.resumed {
		from = f.cut
	}
	for _, tg := range audience {
		if tg.inbox <= from || queued[tg.inbox] {
			continue
		}
		if len(ds) >= left && (f.resumed || tg.inbox > f.cut) {
			return ds, true, nil
		}
		ds = append(ds, Delivery{ActivityID: f.activityID, Inbox: tg.inbox, Host: tg.host, FanOut: f.id, Seq: len(ds),
			NextAttemptAt: fromDB(f.queuedAt), QueuedAt: fromDB(f.queuedAt)})
	}
	return ds, false, nil
}

// FanOutProgress is how far the outcomes of a fan-out's deliveries are
// written: every inbox up to DoneThrough, in the order TakeFanOuts gave
// them, or all of them (Done: the fan-out's row is deleted).
type FanOutProgress struct {
	FanOutRef
	DoneThrough string
	Done        bool
}
