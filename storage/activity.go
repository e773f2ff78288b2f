package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// InboxActivity is an activity we accepted from a peer.
type InboxActivity struct {
	IRI         string
	Type        string
	ActorIRI    string
	CommunityID int64 // 0 when not about one community
	Raw         []byte
	ReceivedAt  time.Time
}

const recordInboxActivityQuery = `
	INSERT INTO inbox_activities (iri, type, actor_iri, community_id, raw, context_id, received_at)
	VALUES (?, ?, ?, NULLIF(?, 0), ?, ?, ?)
	ON CONFLICT (iri) DO NOTHING`

// RecordInboxActivity stores an accepted activity. It returns false when an
// activity with that id was recorded before: the caller must then do
// nothing, so a replay has no second effect.
func (tx *Tx) RecordInboxActivity(ctx context.Context, a InboxActivity) (bool, error) {
	packed, err := tx.packBody(ctx, a.Raw)
	if err != nil {
		return false, fmt.Errorf("record activity %s: %w", a.IRI, err)
	}
	res, err := tx.exec(ctx, recordInboxActivityQuery, a.IRI, a.Type, a.ActorIRI, a.CommunityID, packed.body, packed.contextID, toDB(a.ReceivedAt))
	if err != nil {
		return false, fmt.Errorf("record activity %s: %w", a.IRI, mapError(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record activity %s: %w", a.IRI, err)
	}
	if n == 1 && !tx.tx.pg {
		// SQLite tells the row's id; PostgreSQL's driver does not, and
		// embed asks the database there.
		if id, err := res.LastInsertId(); err == nil {
			tx.recorded = recordedActivity{iri: a.IRI, id: id, raw: packed.body}
		}
	}
	return n == 1, nil
}

const hasInboxActivityQuery = `SELECT COUNT(*) FROM inbox_activities WHERE iri = ?`

// HasInboxActivity reports whether an activity with that id was accepted.
func (s *Store) HasInboxActivity(ctx context.Context, iri string) (bool, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, hasInboxActivityQuery, iri).Scan(&n); err != nil {
		return false, fmt.Errorf("look up activity %s: %w", iri, err)
	}
	return n > 0, nil
}

const inboxActivityByIRIQuery = `
	SELECT iri, type, actor_iri, COALESCE(community_id, 0), raw, context_id, received_at FROM inbox_activities WHERE iri = ?`

// InboxActivityByIRI returns an accepted activity by its id, or ErrNotFound.
func (s *Store) InboxActivityByIRI(ctx context.Context, iri string) (InboxActivity, error) {
	var a InboxActivity
	var raw string
	var contextID, at int64
	err := s.read.QueryRowContext(ctx, inboxActivityByIRIQuery, iri).Scan(&a.IRI, &a.Type, &a.ActorIRI, &a.CommunityID, &raw, &contextID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return InboxActivity{}, ErrNotFound
	}
	if err == nil {
		a.Raw, err = s.unpackBody(ctx, contextID, raw)
	}
	if err != nil {
		return InboxActivity{}, fmt.Errorf("activity %s: %w", iri, err)
	}
	a.ReceivedAt = fromDB(at)
	return a, nil
}

// CountInboxActivities counts accepted activities (for tests and stats).
func (s *Store) CountInboxActivities(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbox_activities`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count activities: %w", err)
	}
	return n, nil
}

// OutboxActivity is an activity one of our actors sends.
type OutboxActivity struct {
	ID          int64
	IRI         string
	CommunityID int64 // 0: the instance actor
	Type        string
	KeyID       string
	Body        []byte
	Listed      bool // shown in the community's outbox collection
	CreatedAt   time.Time
	// ObjectIRI is the post an Announce (or an announced Update) is about,
	// so it can be withdrawn when the post goes; "" for anything else.
	ObjectIRI string
	// Boost marks Announce{ObjectIRI} itself, the boost microblog servers
	// show, which is withdrawn from them with Undo{Announce}.
	Boost bool
	// Withdrawn is set once the post is deleted or removed: the activity is
	// no longer served (410) nor listed, nor sent, and its Body is emptied
	// unless it is a boost (which names the post and no more, and is
	// undone with its body).
	Withdrawn bool
	// Embeds is the IRI of an activity of the raw log (InboxActivity) the
	// body may contain as it is kept there, an Announce of it: the row
	// then refers to it instead of copying it (embed.go). Written, not
	// read back.
	Embeds string
}

const createOutboxActivityQuery = `
	INSERT INTO outbox_activities (iri, community_id, type, key_id, body, context_id, embed_id, embed_at, listed, created_at, object_iri, boost)
	VALUES (?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)` + returningID

// CreateOutboxActivity stores an activity to send and returns its row ID.
func (tx *Tx) CreateOutboxActivity(ctx context.Context, a OutboxActivity) (int64, error) {
	packed, err := tx.packBody(ctx, a.Body)
	if err == nil && !a.Boost {
		// A boost names its object and embeds nothing; it keeps its body
		// when withdrawn, read back by WithdrawAnnounces without the raw
		// log.
		err = tx.embed(ctx, &packed, a.Embeds)
	}
	if err != nil {
		return 0, fmt.Errorf("create outbox activity %s: %w", a.IRI, err)
	}
	id, err := tx.insert(ctx, createOutboxActivityQuery, a.IRI, a.CommunityID, a.Type, a.KeyID, packed.body, packed.contextID, packed.embedID, packed.embedAt,
		a.Listed, toDB(a.CreatedAt), a.ObjectIRI, a.Boost)
	if err != nil {
		return 0, fmt.Errorf("create outbox activity %s: %w", a.IRI, mapError(err))
	}
	return id, nil
}

// storedBodyColumns are the columns of an outbox activity's stored body,
// with the raw log's row it embeds (LEFT JOIN inbox_activities i ON
// i.id = o.embed_id), read into a storedBody.
const storedBodyColumns = `o.body, o.context_id, o.embed_id, o.embed_at, COALESCE(i.raw, ''), COALESCE(i.iri, ''), i.id IS NOT NULL`

const outboxActivityQuery = `SELECT o.id, o.iri, COALESCE(o.community_id, 0), o.type, o.key_id, ` + storedBodyColumns + `, o.created_at, o.withdrawn_at != 0
	FROM outbox_activities o LEFT JOIN inbox_activities i ON i.id = o.embed_id WHERE o.id = ?`

// storedBody is an outbox activity's body as read, before unpackBody.
type storedBody struct {
	body             string
	contextID, embed int64
	embedAt          int
	embedded, iri    string
	found            bool
}

func (b *storedBody) dest() []any {
	return []any{&b.body, &b.contextID, &b.embed, &b.embedAt, &b.embedded, &b.iri, &b.found}
}

// unpack returns the body that was written.
func (b *storedBody) unpack(ctx context.Context, s *Store) ([]byte, error) {
	body := b.body
	if b.embed != 0 && body != "" {
		var err error
		if body, err = spliceEmbedded(body, b.embedAt, b.embedded, b.iri, b.found); err != nil {
			return nil, err
		}
	}
	return s.unpackBody(ctx, b.contextID, body)
}

// OutboxActivityByID returns an activity to send, or ErrNotFound.
func (s *Store) OutboxActivityByID(ctx context.Context, id int64) (OutboxActivity, error) {
	var a OutboxActivity
	var b storedBody
	var created int64
	dest := append([]any{&a.ID, &a.IRI, &a.CommunityID, &a.Type, &a.KeyID}, b.dest()...)
	err := s.readRow(ctx, outboxActivityQuery, id).Scan(append(dest, &created, &a.Withdrawn)...)
	if errors.Is(err, sql.ErrNoRows) {
		return OutboxActivity{}, ErrNotFound
	}
	if err == nil {
		a.Body, err = b.unpack(ctx, s)
	}
	if err != nil {
		return OutboxActivity{}, fmt.Errorf("outbox activity %d: %w", id, err)
	}
	a.CreatedAt = fromDB(created)
	return a, nil
}

const signingKeyQuery = `
	SELECT private_key_pem FROM communities WHERE id = ?1
	UNION ALL SELECT private_key_pem FROM instance WHERE ?1 = 0`

// SigningKey returns the private key PEM of the actor that sends
// activities of a community (0: the instance actor).
func (s *Store) SigningKey(ctx context.Context, communityID int64) (string, error) {
	var pem string
	err := s.read.QueryRowContext(ctx, signingKeyQuery, communityID).Scan(&pem)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("signing key of community %d: %w", communityID, err)
	}
	return pem, nil
}

// RowCounts counts the rows of the tables federation writes, for tests
// that assert hostile input changed nothing.
func (s *Store) RowCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, table := range []string{"actors", "follows", "inbox_activities", "outbox_activities", "deliveries", "fan_outs", "posts", "threads", "contributions", "votes", "held_posts"} {
		var n int
		// table comes from the fixed list above, never from input.
		if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", table, err)
		}
		out[table] = n
	}
	return out, nil
}

const outboxActivityByIRIQuery = `SELECT o.id, o.iri, COALESCE(o.community_id, 0), o.type, o.key_id, ` + storedBodyColumns + `, o.created_at, o.object_iri, o.boost, o.withdrawn_at != 0
	FROM outbox_activities o LEFT JOIN inbox_activities i ON i.id = o.embed_id WHERE o.iri = ?`

// OutboxActivityByIRI returns an activity we sent, by its id, or ErrNotFound.
func (s *Store) OutboxActivityByIRI(ctx context.Context, iri string) (OutboxActivity, error) {
	var a OutboxActivity
	var b storedBody
	var created int64
	dest := append([]any{&a.ID, &a.IRI, &a.CommunityID, &a.Type, &a.KeyID}, b.dest()...)
	err := s.read.QueryRowContext(ctx, outboxActivityByIRIQuery, iri).Scan(append(dest, &created, &a.ObjectIRI, &a.Boost, &a.Withdrawn)...)
	if errors.Is(err, sql.ErrNoRows) {
		return OutboxActivity{}, ErrNotFound
	}
	if err == nil {
		a.Body, err = b.unpack(ctx, s)
	}
	if err != nil {
		return OutboxActivity{}, fmt.Errorf("outbox activity %s: %w", iri, err)
	}
	a.CreatedAt = fromDB(created)
	return a, nil
}

const listedActivitiesQuery = `
	SELECT iri FROM outbox_activities WHERE community_id = ? AND listed = 1 AND withdrawn_at = 0 ORDER BY id DESC LIMIT ? OFFSET ?`

// ListedActivities returns the ids of a community's outbox, newest first.
func (s *Store) ListedActivities(ctx context.Context, communityID int64, offset, limit int) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, listedActivitiesQuery, communityID, limit, offset)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var iri string
		if err := rows.Scan(&iri); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
		out = append(out, iri)
	}
	return out, rows.Err()
}

const countListedActivitiesQuery = `SELECT COUNT(*) FROM outbox_activities WHERE community_id = ? AND listed = 1 AND withdrawn_at = 0`

// CountListedActivities counts a community's outbox.
func (s *Store) CountListedActivities(ctx context.Context, communityID int64) (int, error) {
	var n int
	if err := s.readRow(ctx, countListedActivitiesQuery, communityID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count outbox: %w", err)
	}
	return n, nil
}

// OutboxActivityID returns the row ID of an activity we send, by IRI.
func (tx *Tx) OutboxActivityID(ctx context.Context, iri string) (int64, error) {
	var id int64
	err := tx.tx.QueryRowContext(ctx, `SELECT id FROM outbox_activities WHERE iri = ?`, iri).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// withdrawAnnouncesQuery empties the bodies of the Announces of the
// post's activities (its Create, its Updates), which embed its text: a
// deleted post's text is kept nowhere.
const withdrawAnnouncesQuery = `
	UPDATE outbox_activities SET withdrawn_at = ?1, body = CASE WHEN boost != 0 THEN body ELSE '' END
	WHERE community_id = ?2 AND withdrawn_at = 0 AND object_iri != '' AND (
		object_iri = ?3
		OR (?4 != 0 AND object_iri IN (SELECT iri FROM posts WHERE thread_id = ?4)))
	RETURNING id, iri, type, key_id, body, context_id, created_at, object_iri, boost`

// WithdrawAnnounces marks every activity of a community that is about the
// post objectIRI, or about any post of thread threadID when it is not 0, as
// withdrawn (see OutboxActivity.Withdrawn), drops the deliveries of them
// still queued, and returns them.
func (tx *Tx) WithdrawAnnounces(ctx context.Context, communityID int64, objectIRI string, threadID int64, at time.Time) ([]OutboxActivity, error) {
	rows, err := tx.tx.QueryContext(ctx, withdrawAnnouncesQuery, toDB(at), communityID, objectIRI, threadID)
	if err != nil {
		return nil, fmt.Errorf("withdraw announces of %s: %w", objectIRI, err)
	}
	var out []OutboxActivity
	var contextIDs []int64
	for rows.Next() {
		a := OutboxActivity{CommunityID: communityID, Withdrawn: true}
		var body string
		var contextID, created int64
		if err := rows.Scan(&a.ID, &a.IRI, &a.Type, &a.KeyID, &body, &contextID, &created, &a.ObjectIRI, &a.Boost); err != nil {
			rows.Close()
			return nil, fmt.Errorf("withdraw announces of %s: %w", objectIRI, err)
		}
		a.Body, a.CreatedAt = []byte(body), fromDB(created)
		out = append(out, a)
		contextIDs = append(contextIDs, contextID)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("withdraw announces of %s: %w", objectIRI, err)
	}
	// The contexts are read once the rows are: a transaction reads one
	// result at a time.
	for i := range out {
		if out[i].Body, err = tx.unpackBody(ctx, contextIDs[i], string(out[i].Body)); err != nil {
			return nil, fmt.Errorf("withdraw announces of %s: %w", objectIRI, err)
		}
	}
	// A withdrawn activity that has not left yet need not leave at all.
	for _, a := range out {
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM deliveries WHERE activity_id = ? AND state = 'queued' AND claimed_until <= ?`, a.ID, toDB(at)); err != nil {
			return nil, fmt.Errorf("drop deliveries of %s: %w", a.IRI, err)
		}
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM fan_outs WHERE activity_id = ?`, a.ID); err != nil {
			return nil, fmt.Errorf("drop fan-outs of %s: %w", a.IRI, err)
		}
	}
	return out, nil
}
