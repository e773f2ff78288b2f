package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Meeting statuses.
const (
	MeetingConfirmed = "confirmed"
	MeetingTentative = "tentative"
	MeetingCancelled = "cancelled"
)

// RSVP answers.
const (
	RSVPGoing    = "going"
	RSVPMaybe    = "maybe"
	RSVPDeclined = "declined"
)

// Meeting is a community's Event.
type Meeting struct {
	ID          int64
	CommunityID int64
	IRI         string
	PollIRI     string // the Question Mastodon users answer
	Title       string
	Description string
	Start, End  time.Time
	TimeZone    string
	OnlineURL   string
	Place       string
	RRule       string
	Status      string
	Capacity    int
	Sequence    int
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

const meetingColumns = `id, community_id, iri, poll_iri, title, description, start_at, end_at, timezone, online_url, place,
	rrule, status, capacity, sequence, created_by, created_at, updated_at`

func scanMeeting(row scanner) (Meeting, error) {
	var m Meeting
	var start, end, created, updated int64
	err := row.Scan(&m.ID, &m.CommunityID, &m.IRI, &m.PollIRI, &m.Title, &m.Description, &start, &end, &m.TimeZone, &m.OnlineURL,
		&m.Place, &m.RRule, &m.Status, &m.Capacity, &m.Sequence, &m.CreatedBy, &created, &updated)
	m.Start, m.End, m.CreatedAt, m.UpdatedAt = fromDB(start), fromDB(end), fromDB(created), fromDB(updated)
	return m, err
}

const createMeetingQuery = `
	INSERT INTO meetings (community_id, iri, poll_iri, title, description, start_at, end_at, timezone, online_url, place,
		rrule, status, capacity, created_by, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	RETURNING ` + meetingColumns

// CreateMeeting stores a meeting.
func (tx *Tx) CreateMeeting(ctx context.Context, m Meeting) (Meeting, error) {
	out, err := scanMeeting(tx.tx.QueryRowContext(ctx, createMeetingQuery, m.CommunityID, m.IRI, m.PollIRI, m.Title, m.Description,
		toDB(m.Start), toDB(m.End), m.TimeZone, m.OnlineURL, m.Place, m.RRule, m.Status, m.Capacity, m.CreatedBy,
		toDB(m.CreatedAt), toDB(m.CreatedAt)))
	if err != nil {
		return Meeting{}, fmt.Errorf("create meeting %q: %w", m.Title, mapError(err))
	}
	return out, nil
}

const updateMeetingQuery = `
	UPDATE meetings SET title = ?, description = ?, start_at = ?, end_at = ?, timezone = ?, online_url = ?, place = ?,
		rrule = ?, status = ?, capacity = ?, sequence = sequence + 1, updated_at = ?
	WHERE id = ? RETURNING ` + meetingColumns

// UpdateMeeting writes a changed meeting and bumps its sequence.
func (tx *Tx) UpdateMeeting(ctx context.Context, m Meeting) (Meeting, error) {
	out, err := scanMeeting(tx.tx.QueryRowContext(ctx, updateMeetingQuery, m.Title, m.Description, toDB(m.Start), toDB(m.End), m.TimeZone,
		m.OnlineURL, m.Place, m.RRule, m.Status, m.Capacity, toDB(m.UpdatedAt), m.ID))
	if err != nil {
		return Meeting{}, fmt.Errorf("update meeting %d: %w", m.ID, mapError(err))
	}
	return out, nil
}

const meetingByIRIQuery = `SELECT ` + meetingColumns + ` FROM meetings WHERE iri = ? OR poll_iri = ?`

// MeetingByIRI returns the meeting whose Event or poll has that IRI, or
// ErrNotFound.
func (s *Store) MeetingByIRI(ctx context.Context, iri string) (Meeting, error) {
	m, err := scanMeeting(s.read.QueryRowContext(ctx, meetingByIRIQuery, iri, iri))
	if errors.Is(err, sql.ErrNoRows) {
		return Meeting{}, ErrNotFound
	}
	if err != nil {
		return Meeting{}, fmt.Errorf("meeting %s: %w", iri, err)
	}
	return m, nil
}

const meetingsQuery = `SELECT ` + meetingColumns + ` FROM meetings WHERE community_id = ? ORDER BY start_at DESC, id DESC LIMIT ? OFFSET ?`

// Meetings lists a community's meetings, latest start first.
func (s *Store) Meetings(ctx context.Context, communityID int64, offset, limit int) ([]Meeting, error) {
	rows, err := s.read.QueryContext(ctx, meetingsQuery, communityID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("meetings: %w", err)
	}
	defer rows.Close()
	var out []Meeting
	for rows.Next() {
		m, err := scanMeeting(rows)
		if err != nil {
			return nil, fmt.Errorf("meetings: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// CountMeetings counts a community's meetings.
func (s *Store) CountMeetings(ctx context.Context, communityID int64) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM meetings WHERE community_id = ?`, communityID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count meetings: %w", err)
	}
	return n, nil
}

const setRSVPQuery = `
	INSERT INTO rsvps (meeting_id, actor_iri, answer, activity_iri, updated_at) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (meeting_id, actor_iri) DO UPDATE SET answer = excluded.answer, activity_iri = excluded.activity_iri,
		updated_at = excluded.updated_at
	WHERE rsvps.answer != excluded.answer`

// SetRSVP records an actor's answer; it reports whether anything changed.
func (tx *Tx) SetRSVP(ctx context.Context, meetingID int64, actorIRI, answer, activityIRI string, at time.Time) (bool, error) {
	res, err := tx.tx.ExecContext(ctx, setRSVPQuery, meetingID, actorIRI, answer, activityIRI, toDB(at))
	if err != nil {
		return false, fmt.Errorf("rsvp to meeting %d: %w", meetingID, mapError(err))
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// RemoveRSVP removes an actor's answer (Leave, Undo); it reports whether
// there was one.
func (tx *Tx) RemoveRSVP(ctx context.Context, meetingID int64, actorIRI string) (bool, error) {
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM rsvps WHERE meeting_id = ? AND actor_iri = ?`, meetingID, actorIRI)
	if err != nil {
		return false, fmt.Errorf("remove rsvp: %w", mapError(err))
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// RSVPCounts are the answers to one meeting.
type RSVPCounts struct {
	Going, Maybe, Declined int
}

const rsvpCountsQuery = `
	SELECT COALESCE(SUM(CASE WHEN answer = 'going' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN answer = 'maybe' THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN answer = 'declined' THEN 1 ELSE 0 END), 0)
	FROM rsvps WHERE meeting_id = ?`

// RSVPCounts counts the answers to a meeting.
func (tx *Tx) RSVPCounts(ctx context.Context, meetingID int64) (RSVPCounts, error) {
	var c RSVPCounts
	if err := tx.tx.QueryRowContext(ctx, rsvpCountsQuery, meetingID).Scan(&c.Going, &c.Maybe, &c.Declined); err != nil {
		return RSVPCounts{}, fmt.Errorf("count rsvps: %w", err)
	}
	return c, nil
}

// RSVPCounts counts the answers to a meeting.
func (s *Store) RSVPCounts(ctx context.Context, meetingID int64) (RSVPCounts, error) {
	var c RSVPCounts
	if err := s.read.QueryRowContext(ctx, rsvpCountsQuery, meetingID).Scan(&c.Going, &c.Maybe, &c.Declined); err != nil {
		return RSVPCounts{}, fmt.Errorf("count rsvps: %w", err)
	}
	return c, nil
}

// MarkCountsChanged notes that a meeting's answers changed since its counts
// were last sent; the first change since then is kept.
func (tx *Tx) MarkCountsChanged(ctx context.Context, meetingID int64, at time.Time) error {
	if _, err := tx.tx.ExecContext(ctx, `UPDATE meetings SET counts_changed_at = ? WHERE id = ? AND counts_changed_at = 0`, toDB(at), meetingID); err != nil {
		return fmt.Errorf("mark counts of meeting %d: %w", meetingID, err)
	}
	return nil
}

// TakeChangedCounts returns the meetings whose counts changed at or before
// settled and clears their mark, in tx: whoever takes them sends them.
func (tx *Tx) TakeChangedCounts(ctx context.Context, settled time.Time, limit int) ([]Meeting, error) {
	rows, err := tx.tx.QueryContext(ctx, `UPDATE meetings SET counts_changed_at = 0
		WHERE id IN (SELECT id FROM meetings WHERE counts_changed_at != 0 AND counts_changed_at <= ? ORDER BY counts_changed_at LIMIT ?)
		RETURNING `+meetingColumns, toDB(settled), limit)
	if err != nil {
		return nil, fmt.Errorf("changed meeting counts: %w", err)
	}
	defer rows.Close()
	var out []Meeting
	for rows.Next() {
		m, err := scanMeeting(rows)
		if err != nil {
			return nil, fmt.Errorf("changed meeting counts: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// RSVPOf returns an actor's answer to a meeting, "" when it gave none.
func (tx *Tx) RSVPOf(ctx context.Context, meetingID int64, actorIRI string) (string, error) {
	var answer string
	err := tx.tx.QueryRowContext(ctx, `SELECT answer FROM rsvps WHERE meeting_id = ? AND actor_iri = ?`, meetingID, actorIRI).Scan(&answer)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("answer of %s: %w", actorIRI, err)
	}
	return answer, nil
}
