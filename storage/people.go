package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// Roles of members.
const (
	RoleOwner     = "owner"
	RoleModerator = "moderator"
	RoleBroker    = "broker"
	RoleMember    = "member"
)

// Member is an accepted follower with a role.
type Member struct {
	ActorIRI string
	Role     string
	Since    time.Time
}

const membersQuery = `SELECT actor_iri, role, created_at FROM follows WHERE community_id = ? AND state = 'accepted'
	ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'moderator' THEN 1 WHEN 'broker' THEN 2 ELSE 3 END, id LIMIT ? OFFSET ?`

// Members lists the members of a community, owners and moderators first.
func (s *Store) Members(ctx context.Context, communityID int64, offset, limit int) ([]Member, error) {
	rows, err := s.read.QueryContext(ctx, membersQuery, communityID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		var since int64
		if err := rows.Scan(&m.ActorIRI, &m.Role, &since); err != nil {
			return nil, fmt.Errorf("members: %w", err)
		}
		m.Since = fromDB(since)
		out = append(out, m)
	}
	return out, rows.Err()
}

const moderatorsQuery = `SELECT actor_iri FROM follows WHERE community_id = ? AND state = 'accepted' AND role IN ('owner', 'moderator') ORDER BY id`

// Moderators lists the IRIs of a community's owners and moderators.
func (s *Store) Moderators(ctx context.Context, communityID int64) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, moderatorsQuery, communityID)
	if err != nil {
		return nil, fmt.Errorf("moderators: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var iri string
		if err := rows.Scan(&iri); err != nil {
			return nil, fmt.Errorf("moderators: %w", err)
		}
		out = append(out, iri)
	}
	return out, rows.Err()
}

// Role returns the role of an accepted member, or ErrNotFound.
func (s *Store) Role(ctx context.Context, communityID int64, actorIRI string) (string, error) {
	return scanRole(s.read.QueryRowContext(ctx, roleQuery, communityID, actorIRI), actorIRI)
}

// Role is Store.Role in the transaction.
func (tx *Tx) Role(ctx context.Context, communityID int64, actorIRI string) (string, error) {
	return scanRole(tx.queryRow(ctx, roleQuery, communityID, actorIRI), actorIRI)
}

const roleQuery = `SELECT role FROM follows WHERE community_id = ? AND actor_iri = ? AND state = 'accepted'`

func scanRole(row *sql.Row, actorIRI string) (string, error) {
	var role string
	err := row.Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("role of %s: %w", actorIRI, err)
	}
	return role, nil
}

// SetRole changes the role of an accepted member; ErrNotFound if there is
// no such member.
func (tx *Tx) SetRole(ctx context.Context, communityID int64, actorIRI, role string) error {
	res, err := tx.tx.ExecContext(ctx, `UPDATE follows SET role = ? WHERE community_id = ? AND actor_iri = ? AND state = 'accepted'`, role, communityID, actorIRI)
	if err != nil {
		return fmt.Errorf("set role of %s: %w", actorIRI, mapError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Ban bans an actor from a community.
func (tx *Tx) Ban(ctx context.Context, communityID int64, actorIRI, reason, by string, at time.Time) error {
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO bans (community_id, actor_iri, reason, by, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (community_id, actor_iri) DO UPDATE SET reason = excluded.reason`, communityID, actorIRI, reason, by, toDB(at))
	if err != nil {
		return fmt.Errorf("ban %s: %w", actorIRI, mapError(err))
	}
	return nil
}

// Unban lifts a ban; it reports whether there was one.
func (tx *Tx) Unban(ctx context.Context, communityID int64, actorIRI string) (bool, error) {
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM bans WHERE community_id = ? AND actor_iri = ?`, communityID, actorIRI)
	if err != nil {
		return false, fmt.Errorf("unban %s: %w", actorIRI, mapError(err))
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// IsBanned reports whether an actor is banned from a community.
func (s *Store) IsBanned(ctx context.Context, communityID int64, actorIRI string) (bool, error) {
	var n int
	if err := s.readRow(ctx, `SELECT COUNT(*) FROM bans WHERE community_id = ? AND actor_iri = ?`, communityID, actorIRI).Scan(&n); err != nil {
		return false, fmt.Errorf("ban of %s: %w", actorIRI, err)
	}
	return n > 0, nil
}

// Report is a Flag about content in a community.
type Report struct {
	ID          int64
	CommunityID int64
	IRI         string
	ReporterIRI string
	Objects     []string
	Reason      string
	State       string
	Resolution  string
	ResolvedBy  string
	CreatedAt   time.Time
	ResolvedAt  time.Time
}

// CreateReport stores a report; the same Flag twice gives ErrConflict.
func (tx *Tx) CreateReport(ctx context.Context, r Report) (int64, error) {
	objs, err := json.Marshal(r.Objects)
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.tx.QueryRowContext(ctx, `INSERT INTO reports (community_id, iri, reporter_iri, objects, reason, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		r.CommunityID, r.IRI, r.ReporterIRI, string(objs), r.Reason, toDB(r.CreatedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create report %s: %w", r.IRI, mapError(err))
	}
	return id, nil
}

// openReportCoversQuery counts the objects of ?3 that no open report by
// reporter ?2 in community ?1 names yet.
const openReportCoversQuery = `
	SELECT COUNT(*) FROM json_each(?3) AS want
	WHERE NOT EXISTS (
		SELECT 1 FROM reports r, json_each(r.objects) AS o
		WHERE r.community_id = ?1 AND r.state = 'open' AND r.reporter_iri = ?2 AND o.value = want.value)`

// HasOpenReport says whether reporterIRI has open reports in the community
// that name every one of objects already.
func (tx *Tx) HasOpenReport(ctx context.Context, communityID int64, reporterIRI string, objects []string) (bool, error) {
	objs, err := json.Marshal(objects)
	if err != nil {
		return false, fmt.Errorf("open reports of %s: %w", reporterIRI, err)
	}
	var missing int
	if err := tx.tx.QueryRowContext(ctx, openReportCoversQuery, communityID, reporterIRI, string(objs)).Scan(&missing); err != nil {
		return false, fmt.Errorf("open reports of %s: %w", reporterIRI, mapError(err))
	}
	return missing == 0, nil
}

const reportColumns = `id, community_id, iri, reporter_iri, objects, reason, state, resolution, resolved_by, created_at, resolved_at`

func scanReport(row scanner) (Report, error) {
	var r Report
	var objs string
	var created, resolved int64
	err := row.Scan(&r.ID, &r.CommunityID, &r.IRI, &r.ReporterIRI, &objs, &r.Reason, &r.State, &r.Resolution, &r.ResolvedBy, &created, &resolved)
	if err == nil {
		err = json.Unmarshal([]byte(objs), &r.Objects)
	}
	r.CreatedAt, r.ResolvedAt = fromDB(created), fromDB(resolved)
	return r, err
}

// Reports lists a community's reports in one state, oldest first.
func (s *Store) Reports(ctx context.Context, communityID int64, state string) ([]Report, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+reportColumns+` FROM reports WHERE community_id = ? AND state = ? ORDER BY id`, communityID, state)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, fmt.Errorf("reports: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReportByID returns a report, or ErrNotFound.
func (s *Store) ReportByID(ctx context.Context, id int64) (Report, error) {
	r, err := scanReport(s.read.QueryRowContext(ctx, `SELECT `+reportColumns+` FROM reports WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Report{}, ErrNotFound
	}
	return r, err
}

// ResolveReport closes a report.
func (tx *Tx) ResolveReport(ctx context.Context, id int64, state, resolution, by string, at time.Time) error {
	_, err := tx.tx.ExecContext(ctx, `UPDATE reports SET state = ?, resolution = ?, resolved_by = ?, resolved_at = ? WHERE id = ?`, state, resolution, by, toDB(at), id)
	if err != nil {
		return fmt.Errorf("resolve report %d: %w", id, mapError(err))
	}
	return nil
}

// LogEntry is one line of a community's moderation log.
type LogEntry struct {
	By, Action, Target, Reason string
	At                         time.Time
}

// LogModeration appends to a community's moderation log.
func (tx *Tx) LogModeration(ctx context.Context, communityID int64, e LogEntry) error {
	_, err := tx.tx.ExecContext(ctx, `INSERT INTO mod_log (community_id, by, action, target, reason, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		communityID, e.By, e.Action, e.Target, e.Reason, toDB(e.At))
	if err != nil {
		return fmt.Errorf("log %s: %w", e.Action, mapError(err))
	}
	return nil
}

// ModerationLog lists a community's moderation log, newest first.
func (s *Store) ModerationLog(ctx context.Context, communityID int64, limit int) ([]LogEntry, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT by, action, target, reason, created_at FROM mod_log WHERE community_id = ? ORDER BY id DESC LIMIT ?`, communityID, limit)
	if err != nil {
		return nil, fmt.Errorf("moderation log: %w", err)
	}
	defer rows.Close()
	var out []LogEntry
	for rows.Next() {
		var e LogEntry
		var at int64
		if err := rows.Scan(&e.By, &e.Action, &e.Target, &e.Reason, &at); err != nil {
			return nil, fmt.Errorf("moderation log: %w", err)
		}
		e.At = fromDB(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Contribution kinds of the ledger.
const (
	ContribThread            = "thread"
	ContribReply             = "reply"
	ContribLikeReceived      = "like_received"
	ContribResourceProposed  = "resource_proposed"
	ContribResourcePublished = "resource_published"
	ContribMeetingAttended   = "meeting_attended"
)

const recordContributionQuery = `
	INSERT INTO contributions (community_id, actor_iri, kind, ref, created_at) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (community_id, actor_iri, kind, ref) DO NOTHING`

// RecordContribution adds a line to the ledger; the same (actor, kind,
// ref) counts once.
func (tx *Tx) RecordContribution(ctx context.Context, communityID int64, actorIRI, kind, ref string, at time.Time) error {
	_, err := tx.exec(ctx, recordContributionQuery, communityID, actorIRI, kind, ref, toDB(at))
	if err != nil {
		return fmt.Errorf("record %s of %s: %w", kind, actorIRI, mapError(err))
	}
	return nil
}

// RemoveContribution takes a line off the ledger (an undone like, a
// withdrawn RSVP).
func (tx *Tx) RemoveContribution(ctx context.Context, communityID int64, actorIRI, kind, ref string) error {
	_, err := tx.tx.ExecContext(ctx, `DELETE FROM contributions WHERE community_id = ? AND actor_iri = ? AND kind = ? AND ref = ?`, communityID, actorIRI, kind, ref)
	if err != nil {
		return fmt.Errorf("remove %s of %s: %w", kind, actorIRI, mapError(err))
	}
	return nil
}

// Contributor is a member and their contributions by kind.
type Contributor struct {
	ActorIRI    string
	CommunityID int64
	Total       int
	ByKind      map[string]int
}

// TopContributors returns the most active members of a community since a
// time, most contributions first.
func (s *Store) TopContributors(ctx context.Context, communityID int64, since time.Time, limit int) ([]Contributor, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT actor_iri, kind, COUNT(*) FROM contributions
		WHERE community_id = ? AND created_at >= ? GROUP BY actor_iri, kind`, communityID, toDB(since))
	if err != nil {
		return nil, fmt.Errorf("top contributors: %w", err)
	}
	defer rows.Close()
	byActor := map[string]*Contributor{}
	var order []*Contributor
	for rows.Next() {
		var actor, kind string
		var n int
		if err := rows.Scan(&actor, &kind, &n); err != nil {
			return nil, fmt.Errorf("top contributors: %w", err)
		}
		c := byActor[actor]
		if c == nil {
			c = &Contributor{ActorIRI: actor, CommunityID: communityID, ByKind: map[string]int{}}
			byActor[actor] = c
			order = append(order, c)
		}
		c.ByKind[kind] += n
		c.Total += n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Contributor, 0, len(order))
	for _, c := range order {
		out = append(out, *c)
	}
	sortContributors(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// ActorContributions returns one actor's ledger in every community.
func (s *Store) ActorContributions(ctx context.Context, actorIRI string) ([]Contributor, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT community_id, kind, COUNT(*) FROM contributions WHERE actor_iri = ? GROUP BY community_id, kind`, actorIRI)
	if err != nil {
		return nil, fmt.Errorf("contributions of %s: %w", actorIRI, err)
	}
	defer rows.Close()
	byCommunity := map[int64]*Contributor{}
	var order []*Contributor
	for rows.Next() {
		var id int64
		var kind string
		var n int
		if err := rows.Scan(&id, &kind, &n); err != nil {
			return nil, fmt.Errorf("contributions of %s: %w", actorIRI, err)
		}
		c := byCommunity[id]
		if c == nil {
			c = &Contributor{ActorIRI: actorIRI, CommunityID: id, ByKind: map[string]int{}}
			byCommunity[id] = c
			order = append(order, c)
		}
		c.ByKind[kind] += n
		c.Total += n
	}
	out := make([]Contributor, 0, len(order))
	for _, c := range order {
		out = append(out, *c)
	}
	sortContributors(out)
	return out, rows.Err()
}

func sortContributors(cs []Contributor) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Total != cs[j].Total {
			return cs[i].Total > cs[j].Total
		}
		return cs[i].ActorIRI < cs[j].ActorIRI
	})
}

// IsBanned reports, inside a transaction, whether an actor is banned from a
// community.
func (tx *Tx) IsBanned(ctx context.Context, communityID int64, actorIRI string) (bool, error) {
	var n int
	if err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM bans WHERE community_id = ? AND actor_iri = ?`, communityID, actorIRI).Scan(&n); err != nil {
		return false, fmt.Errorf("ban of %s: %w", actorIRI, err)
	}
	return n > 0, nil
}
