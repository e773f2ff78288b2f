package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Decision is a poll a community opened.
type Decision struct {
	ID          int64
	CommunityID int64
	IRI         string
	Question    string
	Options     []string
	Multiple    bool // anyOf: a voter may choose several options
	ClosesAt    time.Time
	TimeZone    string
	ClosedAt    time.Time // zero while open
	CreatedBy   string
	CreatedAt   time.Time
}

// Tally is how a decision stands: votes per option (in the order of
// Options) and how many voted.
type Tally struct {
	Votes  []int
	Voters int
}

const decisionColumns = `id, community_id, iri, question, multiple, closes_at, timezone, closed_at, created_by, created_at`

func scanDecision(row scanner) (Decision, error) {
	var d Decision
	var closes, closed, created int64
	err := row.Scan(&d.ID, &d.CommunityID, &d.IRI, &d.Question, &d.Multiple, &closes, &d.TimeZone, &closed, &d.CreatedBy, &created)
	d.ClosesAt, d.CreatedAt = fromDB(closes), fromDB(created)
	if closed != 0 {
		d.ClosedAt = fromDB(closed)
	}
	return d, err
}

// CreateDecision stores a decision with its options.
func (tx *Tx) CreateDecision(ctx context.Context, d Decision) (Decision, error) {
	err := tx.tx.QueryRowContext(ctx, `INSERT INTO decisions (community_id, iri, question, multiple, closes_at, timezone, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, d.CommunityID, d.IRI, d.Question, d.Multiple, toDB(d.ClosesAt), d.TimeZone, d.CreatedBy, toDB(d.CreatedAt)).Scan(&d.ID)
	if err != nil {
		return Decision{}, fmt.Errorf("create decision: %w", mapError(err))
	}
	for i, o := range d.Options {
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO decision_options (decision_id, position, name) VALUES (?, ?, ?)`, d.ID, i, o); err != nil {
			return Decision{}, fmt.Errorf("create decision option: %w", mapError(err))
		}
	}
	return d, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func decisionBy(ctx context.Context, q querier, where string, arg any) (Decision, error) {
	d, err := scanDecision(q.QueryRowContext(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return Decision{}, ErrNotFound
	}
	if err != nil {
		return Decision{}, fmt.Errorf("decision %v: %w", arg, err)
	}
	if d.Options, err = decisionOptions(ctx, q, d.ID); err != nil {
		return Decision{}, err
	}
	return d, nil
}

func decisionOptions(ctx context.Context, q querier, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM decision_options WHERE decision_id = ? ORDER BY position`, id)
	if err != nil {
		return nil, fmt.Errorf("options of decision %d: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("options of decision %d: %w", id, err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// DecisionByIRI returns a decision by its id, or ErrNotFound.
func (s *Store) DecisionByIRI(ctx context.Context, iri string) (Decision, error) {
	return decisionBy(ctx, s.read, `iri = ?`, iri)
}

// DecisionByIRI returns a decision by its id inside a transaction.
func (tx *Tx) DecisionByIRI(ctx context.Context, iri string) (Decision, error) {
	return decisionBy(ctx, tx.tx, `iri = ?`, iri)
}

// Decisions lists a community's decisions, newest first.
func (s *Store) Decisions(ctx context.Context, communityID int64, limit int) ([]Decision, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE community_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`, communityID, limit)
	if err != nil {
		return nil, fmt.Errorf("decisions: %w", err)
	}
	var out []Decision
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("decisions: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Options, err = decisionOptions(ctx, s.read, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SetDecisionVotes replaces an actor's votes in a decision with the given
// option positions (none: the actor withdraws). It reports whether they
// changed.
func (tx *Tx) SetDecisionVotes(ctx context.Context, decisionID int64, actorIRI string, positions []int, activityIRI string, at time.Time) (bool, error) {
	before, err := tx.DecisionVotesOf(ctx, decisionID, actorIRI)
	if err != nil {
		return false, err
	}
	if equalInts(before, positions) {
		return false, nil
	}
	if _, err := tx.tx.ExecContext(ctx, `DELETE FROM decision_votes WHERE decision_id = ? AND actor_iri = ?`, decisionID, actorIRI); err != nil {
		return false, fmt.Errorf("votes of %s: %w", actorIRI, err)
	}
	for _, p := range positions {
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO decision_votes (decision_id, actor_iri, position, activity_iri, created_at) VALUES (?, ?, ?, ?, ?)`,
			decisionID, actorIRI, p, activityIRI, toDB(at)); err != nil {
			return false, fmt.Errorf("vote of %s: %w", actorIRI, mapError(err))
		}
	}
	if _, err := tx.tx.ExecContext(ctx, `UPDATE decisions SET counts_changed_at = ? WHERE id = ? AND counts_changed_at = 0`, toDB(at), decisionID); err != nil {
		return false, fmt.Errorf("mark decision %d: %w", decisionID, err)
	}
	return true, nil
}

// DecisionVotesOf returns the option positions an actor voted for.
func (tx *Tx) DecisionVotesOf(ctx context.Context, decisionID int64, actorIRI string) ([]int, error) {
	rows, err := tx.tx.QueryContext(ctx, `SELECT position FROM decision_votes WHERE decision_id = ? AND actor_iri = ? ORDER BY position`, decisionID, actorIRI)
	if err != nil {
		return nil, fmt.Errorf("votes of %s: %w", actorIRI, err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var p int
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Tally counts a decision's votes.
func (s *Store) Tally(ctx context.Context, d Decision) (Tally, error) {
	return tally(ctx, s.read, d)
}

// Tally counts a decision's votes inside a transaction.
func (tx *Tx) Tally(ctx context.Context, d Decision) (Tally, error) {
	return tally(ctx, tx.tx, d)
}

func tally(ctx context.Context, q querier, d Decision) (Tally, error) {
	t := Tally{Votes: make([]int, len(d.Options))}
	rows, err := q.QueryContext(ctx, `SELECT position, COUNT(*) FROM decision_votes WHERE decision_id = ? GROUP BY position`, d.ID)
	if err != nil {
		return Tally{}, fmt.Errorf("tally %s: %w", d.IRI, err)
	}
	defer rows.Close()
	for rows.Next() {
		var p, n int
		if err := rows.Scan(&p, &n); err != nil {
			return Tally{}, fmt.Errorf("tally %s: %w", d.IRI, err)
		}
		if p >= 0 && p < len(t.Votes) {
			t.Votes[p] = n
		}
	}
	if err := rows.Err(); err != nil {
		return Tally{}, err
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(DISTINCT actor_iri) FROM decision_votes WHERE decision_id = ?`, d.ID).Scan(&t.Voters); err != nil {
		return Tally{}, fmt.Errorf("voters of %s: %w", d.IRI, err)
	}
	return t, nil
}

// CloseDecision closes a decision at at; closing a closed one changes
// nothing and reports false.
func (tx *Tx) CloseDecision(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := tx.tx.ExecContext(ctx, `UPDATE decisions SET closed_at = ?, counts_changed_at = 0 WHERE id = ? AND closed_at = 0`, toDB(at), id)
	if err != nil {
		return false, fmt.Errorf("close decision %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DueDecisions returns open decisions whose closing time has come.
func (tx *Tx) DueDecisions(ctx context.Context, now time.Time, limit int) ([]Decision, error) {
	return tx.decisionsWhere(ctx, `closed_at = 0 AND closes_at <= ? ORDER BY closes_at LIMIT ?`, toDB(now), limit)
}

// TakeChangedTallies returns open decisions whose votes changed at or
// before settled and clears their mark: whoever takes them sends them.
func (tx *Tx) TakeChangedTallies(ctx context.Context, settled time.Time, limit int) ([]Decision, error) {
	ds, err := tx.decisionsWhere(ctx, `closed_at = 0 AND counts_changed_at != 0 AND counts_changed_at <= ? ORDER BY counts_changed_at LIMIT ?`, toDB(settled), limit)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if _, err := tx.tx.ExecContext(ctx, `UPDATE decisions SET counts_changed_at = 0 WHERE id = ?`, d.ID); err != nil {
			return nil, fmt.Errorf("clear decision %d: %w", d.ID, err)
		}
	}
	return ds, nil
}

func (tx *Tx) decisionsWhere(ctx context.Context, where string, args ...any) ([]Decision, error) {
	rows, err := tx.tx.QueryContext(ctx, `SELECT `+decisionColumns+` FROM decisions WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("decisions: %w", err)
	}
	var out []Decision
	for rows.Next() {
		d, err := scanDecision(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("decisions: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Options, err = decisionOptions(ctx, tx.tx, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}
