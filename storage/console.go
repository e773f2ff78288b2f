package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Kinds of console accounts.
const (
	AccountAdmin   = "admin"   // runs the whole instance
	AccountSteward = "steward" // runs the communities it is given
)

// Account is a console account without its password hash.
type Account struct {
	ID        int64
	Username  string
	Kind      string // AccountAdmin or AccountSteward
	CreatedAt time.Time
}

const accountColumns = `id, username, kind, created_at`

func scanAccount(row scanner) (Account, error) {
	var a Account
	var created int64
	err := row.Scan(&a.ID, &a.Username, &a.Kind, &created)
	a.CreatedAt = fromDB(created)
	return a, err
}

const createAccountQuery = `
	INSERT INTO admins (username, password_hash, kind, created_at) VALUES (?, ?, ?, ?)
	RETURNING ` + accountColumns

// CreateAccount inserts a console account of a.Kind with passwordHash; a
// taken username gives ErrConflict.
func (s *Store) CreateAccount(ctx context.Context, a Account, passwordHash string) (Account, error) {
	out, err := scanAccount(s.write.QueryRowContext(ctx, createAccountQuery, a.Username, passwordHash, a.Kind, toDB(a.CreatedAt)))
	if err != nil {
		return Account{}, fmt.Errorf("create account %s: %w", a.Username, mapError(err))
	}
	return out, nil
}

const accountByIDQuery = `SELECT ` + accountColumns + ` FROM admins WHERE id = ?`

// AccountByID returns the console account with that row ID, or ErrNotFound.
func (s *Store) AccountByID(ctx context.Context, id int64) (Account, error) {
	a, err := scanAccount(s.read.QueryRowContext(ctx, accountByIDQuery, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("account %d: %w", id, err)
	}
	return a, nil
}

const accountByUsernameQuery = `SELECT ` + accountColumns + ` FROM admins WHERE username = ?`

// AccountByUsername returns the console account called username, or
// ErrNotFound.
func (s *Store) AccountByUsername(ctx context.Context, username string) (Account, error) {
	a, err := scanAccount(s.read.QueryRowContext(ctx, accountByUsernameQuery, username))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("account %s: %w", username, err)
	}
	return a, nil
}

const accountsQuery = `SELECT ` + accountColumns + ` FROM admins ORDER BY username`

// Accounts lists every console account by username.
func (s *Store) Accounts(ctx context.Context) ([]Account, error) {
	rows, err := s.read.QueryContext(ctx, accountsQuery)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const deleteAccountQuery = `DELETE FROM admins WHERE id = ?`

// DeleteAccount deletes a console account with its sessions and
// stewardships; ErrNotFound if there is none.
func (s *Store) DeleteAccount(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, deleteAccountQuery, id)
	if err != nil {
		return fmt.Errorf("delete account %d: %w", id, mapError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Stewardship is a steward's charge of one community.
type Stewardship struct {
	AccountID     int64
	CommunityID   int64
	CommunityName string
	Role          string // RoleModerator or RoleBroker
}

const setStewardQuery = `
	INSERT INTO stewards (admin_id, community_id, role, created_at) VALUES (?, ?, ?, ?)
	ON CONFLICT (admin_id, community_id) DO UPDATE SET role = excluded.role`

// SetSteward gives account the charge of a community in role.
func (s *Store) SetSteward(ctx context.Context, sh Stewardship, at time.Time) error {
	if _, err := s.write.ExecContext(ctx, setStewardQuery, sh.AccountID, sh.CommunityID, sh.Role, toDB(at)); err != nil {
		return fmt.Errorf("set steward %d of community %d: %w", sh.AccountID, sh.CommunityID, mapError(err))
	}
	return nil
}

const removeStewardQuery = `DELETE FROM stewards WHERE admin_id = ? AND community_id = ?`

// RemoveSteward takes a community from a steward; ErrNotFound if the
// steward did not have it.
func (s *Store) RemoveSteward(ctx context.Context, accountID, communityID int64) error {
	res, err := s.write.ExecContext(ctx, removeStewardQuery, accountID, communityID)
	if err != nil {
		return fmt.Errorf("remove steward %d of community %d: %w", accountID, communityID, mapError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

const stewardshipsQuery = `
	SELECT s.admin_id, s.community_id, c.name, s.role
	FROM stewards s JOIN communities c ON c.id = s.community_id
	WHERE ?1 = 0 OR s.admin_id = ?1
	ORDER BY s.admin_id, c.name`

// Stewardships lists the communities a steward runs; accountID 0 lists
// those of every account.
func (s *Store) Stewardships(ctx context.Context, accountID int64) ([]Stewardship, error) {
	rows, err := s.read.QueryContext(ctx, stewardshipsQuery, accountID)
	if err != nil {
		return nil, fmt.Errorf("stewardships of %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []Stewardship
	for rows.Next() {
		var sh Stewardship
		if err := rows.Scan(&sh.AccountID, &sh.CommunityID, &sh.CommunityName, &sh.Role); err != nil {
			return nil, fmt.Errorf("stewardships of %d: %w", accountID, err)
		}
		out = append(out, sh)
	}
	return out, rows.Err()
}

// Session is a signed-in console session. TokenHash is the hex SHA-256 of
// the token the browser holds; the token itself is never stored.
type Session struct {
	TokenHash string
	AccountID int64
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

const createSessionQuery = `
	INSERT INTO sessions (token_hash, admin_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`

// CreateSession stores a session.
func (s *Store) CreateSession(ctx context.Context, se Session) error {
	if _, err := s.write.ExecContext(ctx, createSessionQuery, se.TokenHash, se.AccountID, se.CSRFToken, toDB(se.CreatedAt), toDB(se.ExpiresAt)); err != nil {
		return fmt.Errorf("create session: %w", mapError(err))
	}
	return nil
}

const sessionQuery = `
	SELECT token_hash, admin_id, csrf_token, created_at, expires_at
	FROM sessions WHERE token_hash = ? AND expires_at > ?`

// SessionByHash returns the session whose token hashes to tokenHash and
// that has not expired at now, or ErrNotFound.
func (s *Store) SessionByHash(ctx context.Context, tokenHash string, now time.Time) (Session, error) {
	var se Session
	var created, expires int64
	err := s.read.QueryRowContext(ctx, sessionQuery, tokenHash, toDB(now)).Scan(&se.TokenHash, &se.AccountID, &se.CSRFToken, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	se.CreatedAt, se.ExpiresAt = fromDB(created), fromDB(expires)
	return se, nil
}

const deleteSessionQuery = `DELETE FROM sessions WHERE token_hash = ?`

// DeleteSession deletes a session; deleting one that is gone is not an
// error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.write.ExecContext(ctx, deleteSessionQuery, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", mapError(err))
	}
	return nil
}

const deleteExpiredSessionsQuery = `DELETE FROM sessions WHERE expires_at <= ?`

// DeleteExpiredSessions deletes the sessions expired at now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	if _, err := s.write.ExecContext(ctx, deleteExpiredSessionsQuery, toDB(now)); err != nil {
		return fmt.Errorf("delete expired sessions: %w", mapError(err))
	}
	return nil
}

// AuditEntry is one console action.
type AuditEntry struct {
	ID        int64
	Username  string
	Action    string
	Community string // name, when the action concerns one
	Target    string
	Detail    string
	At        time.Time
}

const recordAuditQuery = `
	INSERT INTO audit_log (username, action, community, target, detail, created_at) VALUES (?, ?, ?, ?, ?, ?)`

// RecordAudit appends an entry to the audit log.
func (s *Store) RecordAudit(ctx context.Context, e AuditEntry) error {
	if _, err := s.write.ExecContext(ctx, recordAuditQuery, e.Username, e.Action, e.Community, e.Target, truncateText(e.Detail), toDB(e.At)); err != nil {
		return fmt.Errorf("record audit %s: %w", e.Action, mapError(err))
	}
	return nil
}

// RecordAudit appends an entry to the audit log inside the transaction
// that does what it records, so the two commit or fail together.
func (tx *Tx) RecordAudit(ctx context.Context, e AuditEntry) error {
	if _, err := tx.tx.ExecContext(ctx, recordAuditQuery, e.Username, e.Action, e.Community, e.Target, truncateText(e.Detail), toDB(e.At)); err != nil {
		return fmt.Errorf("record audit %s: %w", e.Action, mapError(err))
	}
	return nil
}

const auditLogQuery = `
	SELECT id, username, action, community, target, detail, created_at
	FROM audit_log ORDER BY id DESC LIMIT ?`

// AuditLog returns the latest limit entries of the audit log, newest
// first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.read.QueryContext(ctx, auditLogQuery, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &e.Username, &e.Action, &e.Community, &e.Target, &e.Detail, &at); err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		e.At = fromDB(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// CommunityProfile is what the console edits of a community besides its
// settings.
type CommunityProfile struct {
	Title     string
	Summary   string
	Rules     string
	JoinMode  string
	UpdatedAt time.Time
}

const updateCommunityProfileQuery = `UPDATE communities SET title = ?, summary = ?, rules = ?, join_mode = ?, updated_at = ? WHERE id = ?`

// UpdateCommunityProfile changes a community's title, summary and join
// mode; ErrNotFound if there is no such community.
func (s *Store) UpdateCommunityProfile(ctx context.Context, communityID int64, p CommunityProfile) error {
	res, err := s.write.ExecContext(ctx, updateCommunityProfileQuery, p.Title, p.Summary, p.Rules, p.JoinMode, toDB(p.UpdatedAt), communityID)
	if err != nil {
		return fmt.Errorf("update community %d: %w", communityID, mapError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

const archiveCommunityQuery = `
	UPDATE communities SET archived_at = ?1,
		join_mode = CASE WHEN ?4 = 1 THEN 'invite' ELSE join_mode END,
		posting_policy = CASE WHEN ?4 = 1 THEN 'moderators' ELSE posting_policy END,
		updated_at = ?2
	WHERE id = ?3`

// SetCommunityArchived archives a community at at (closing it to new
// members and to posts by anyone but its moderators), or restores it when
// at is zero, keeping the closed join mode and posting policy.
func (s *Store) SetCommunityArchived(ctx context.Context, communityID int64, at, now time.Time) error {
	res, err := s.write.ExecContext(ctx, archiveCommunityQuery, toDB(at), toDB(now), communityID, !at.IsZero())
	if err != nil {
		return fmt.Errorf("archive community %d: %w", communityID, mapError(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// CommunityStats is one community's line on the console's dashboard.
type CommunityStats struct {
	ID          int64
	Name        string
	Title       string
	JoinMode    string
	ArchivedAt  time.Time
	Members     int
	Pending     int
	RecentPosts int // published since the time given to CommunityStats
	OpenReports int
}

const communityStatsQuery = `
	SELECT c.id, c.name, c.title, c.join_mode, c.archived_at,
		(SELECT COUNT(*) FROM follows f WHERE f.community_id = c.id AND f.state = 'accepted'),
		(SELECT COUNT(*) FROM follows f WHERE f.community_id = c.id AND f.state = 'pending'),
		(SELECT COUNT(*) FROM posts p WHERE p.community_id = c.id AND p.published >= ?),
		(SELECT COUNT(*) FROM reports r WHERE r.community_id = c.id AND r.state = 'open')
	FROM communities c ORDER BY c.name`

// CommunityStats counts, per community, its members, pending requests,
// posts published since since, and open reports.
func (s *Store) CommunityStats(ctx context.Context, since time.Time) ([]CommunityStats, error) {
	rows, err := s.read.QueryContext(ctx, communityStatsQuery, toDB(since))
	if err != nil {
		return nil, fmt.Errorf("community stats: %w", err)
	}
	defer rows.Close()
	var out []CommunityStats
	for rows.Next() {
		var cs CommunityStats
		var archived int64
		if err := rows.Scan(&cs.ID, &cs.Name, &cs.Title, &cs.JoinMode, &archived, &cs.Members, &cs.Pending, &cs.RecentPosts, &cs.OpenReports); err != nil {
			return nil, fmt.Errorf("community stats: %w", err)
		}
		cs.ArchivedAt = fromDB(archived)
		out = append(out, cs)
	}
	return out, rows.Err()
}

// KnownHost is a remote host we know of, from its actors or from
// deliveries, with its delivery health.
type KnownHost struct {
	Health Host
	Actors int // actors of the host we have fetched
	Queued int // deliveries waiting for it
	Failed int // deliveries given up
}

const knownHostsQuery = `
	SELECT k.host, COALESCE(h.last_success_at, 0), COALESCE(h.last_failure_at, 0), COALESCE(h.consecutive_failures, 0),
		COALESCE(h.failing_since, 0), COALESCE(h.unreachable, 0), COALESCE(h.retry_after_until, 0), COALESCE(h.last_error, ''),
		(SELECT COUNT(*) FROM actors a WHERE a.host = k.host),
		(SELECT COUNT(*) FROM deliveries d WHERE d.host = k.host AND d.state = 'queued'),
		(SELECT COUNT(*) FROM deliveries d WHERE d.host = k.host AND d.state = 'failed')
	FROM (SELECT host FROM hosts UNION SELECT host FROM actors) k
	LEFT JOIN hosts h ON h.host = k.host
	ORDER BY COALESCE(h.unreachable, 0) DESC, COALESCE(h.consecutive_failures, 0) DESC, k.host
	LIMIT ?`

// KnownHosts lists up to limit known hosts, unreachable and failing ones
// first.
func (s *Store) KnownHosts(ctx context.Context, limit int) ([]KnownHost, error) {
	rows, err := s.read.QueryContext(ctx, knownHostsQuery, limit)
	if err != nil {
		return nil, fmt.Errorf("known hosts: %w", err)
	}
	defer rows.Close()
	var out []KnownHost
	for rows.Next() {
		var k KnownHost
		var ls, lf, fs, ra int64
		if err := rows.Scan(&k.Health.Host, &ls, &lf, &k.Health.ConsecutiveFailures, &fs, &k.Health.Unreachable, &ra, &k.Health.LastError,
			&k.Actors, &k.Queued, &k.Failed); err != nil {
			return nil, fmt.Errorf("known hosts: %w", err)
		}
		k.Health.LastSuccessAt, k.Health.LastFailureAt, k.Health.FailingSince, k.Health.RetryAfterUntil = fromDB(ls), fromDB(lf), fromDB(fs), fromDB(ra)
		out = append(out, k)
	}
	return out, rows.Err()
}

const countFailingHostsQuery = `SELECT COUNT(*) FROM hosts WHERE consecutive_failures > 0 OR unreachable = 1`

// CountFailingHosts counts the hosts whose last delivery failed.
func (s *Store) CountFailingHosts(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, countFailingHostsQuery).Scan(&n); err != nil {
		return 0, fmt.Errorf("count failing hosts: %w", err)
	}
	return n, nil
}

const (
	retryHostDeliveriesQuery = `
		UPDATE deliveries SET state = 'queued', next_attempt_at = ?1, claimed_until = 0, claimed_by = ''
		WHERE state IN ('queued', 'failed') AND host = ?2 AND claimed_until <= ?1` // seeks deliveries_host_due by state and host
	retryHostQuery = `
		UPDATE hosts SET unreachable = 0, consecutive_failures = 0, failing_since = 0, retry_after_until = 0
		WHERE host = ?`
)

// RetryHost makes every queued or given-up delivery to host due at now and
// clears the host's failure marks, in one transaction. It returns how many
// deliveries are due.
func (s *Store) RetryHost(ctx context.Context, host string, now time.Time) (int, error) {
	var n int64
	err := s.InTx(ctx, func(tx *Tx) error {
		tx.queued = true
		res, err := tx.tx.ExecContext(ctx, retryHostDeliveriesQuery, toDB(now), host)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.tx.ExecContext(ctx, retryHostQuery, host)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("retry %s: %w", host, mapError(err))
	}
	return int(n), nil
}

// Ban is an actor banned from a community.
type Ban struct {
	ActorIRI string
	Reason   string
	By       string
	At       time.Time
}

const bansQuery = `SELECT actor_iri, reason, by, created_at FROM bans WHERE community_id = ? ORDER BY created_at DESC LIMIT ?`

// Bans lists up to limit actors banned from a community, latest first.
func (s *Store) Bans(ctx context.Context, communityID int64, limit int) ([]Ban, error) {
	rows, err := s.read.QueryContext(ctx, bansQuery, communityID, limit)
	if err != nil {
		return nil, fmt.Errorf("bans: %w", err)
	}
	defer rows.Close()
	var out []Ban
	for rows.Next() {
		var b Ban
		var at int64
		if err := rows.Scan(&b.ActorIRI, &b.Reason, &b.By, &at); err != nil {
			return nil, fmt.Errorf("bans: %w", err)
		}
		b.At = fromDB(at)
		out = append(out, b)
	}
	return out, rows.Err()
}
