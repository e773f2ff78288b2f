package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Kinds of sign-in requests and member sessions.
const (
	SignInLink  = "link"  // a one-time link sent by direct message
	SignInOAuth = "oauth" // OAuth with the member's server (Mastodon client API)
)

// SignInRequest is a sign-in under way: a one-time link sent by direct
// message, or the state of an OAuth authorization. TokenHash and
// PreSessionHash are hex SHA-256 hashes; the tokens themselves are never
// stored.
type SignInRequest struct {
	ID             int64
	Kind           string // SignInLink or SignInOAuth
	TokenHash      string
	PreSessionHash string
	Handle         string // as typed, normalized: name@host
	ActorIRI       string // the actor the link was sent to ("" for OAuth)
	DisplayHandle  string // @name@host as shown once signed in
	Server         string // OAuth: the origin of the account's server
	CodeVerifier   string // OAuth: the PKCE code verifier
	ClientKey      string // the address of the client that asked
	CreatedAt      time.Time
	ExpiresAt      time.Time
	UsedAt         time.Time // zero until used
}

const signInRequestColumns = `id, kind, token_hash, presession_hash, handle, actor_iri, display_handle, server, code_verifier, client_key, created_at, expires_at, used_at`

func scanSignInRequest(row scanner) (SignInRequest, error) {
	var q SignInRequest
	var created, expires, used int64
	err := row.Scan(&q.ID, &q.Kind, &q.TokenHash, &q.PreSessionHash, &q.Handle, &q.ActorIRI, &q.DisplayHandle, &q.Server,
		&q.CodeVerifier, &q.ClientKey, &created, &expires, &used)
	q.CreatedAt, q.ExpiresAt, q.UsedAt = fromDB(created), fromDB(expires), fromDB(used)
	return q, err
}

const createSignInRequestQuery = `
	INSERT INTO signin_requests (kind, token_hash, presession_hash, handle, actor_iri, display_handle, server, code_verifier, client_key, created_at, expires_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`

// CreateSignInRequest stores a sign-in request and returns its row ID.
func (tx *Tx) CreateSignInRequest(ctx context.Context, q SignInRequest) (int64, error) {
	var id int64
	err := tx.tx.QueryRowContext(ctx, createSignInRequestQuery, q.Kind, q.TokenHash, q.PreSessionHash, q.Handle, q.ActorIRI,
		q.DisplayHandle, q.Server, q.CodeVerifier, q.ClientKey, toDB(q.CreatedAt), toDB(q.ExpiresAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create sign-in request for %s: %w", q.Handle, mapError(err))
	}
	return id, nil
}

// CreateSignInRequest stores a sign-in request outside a transaction (an
// OAuth state, which queues nothing).
func (s *Store) CreateSignInRequest(ctx context.Context, q SignInRequest) (int64, error) {
	var id int64
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.CreateSignInRequest(ctx, q)
		return err
	})
	return id, err
}

// useSignInRequestQuery marks a request used, only when it is still
// unused, unexpired and of the kind expected: the single UPDATE makes a
// token single-use even when two requests race.
const useSignInRequestQuery = `
	UPDATE signin_requests SET used_at = ?1
	WHERE token_hash = ?2 AND kind = ?3 AND presession_hash = ?4 AND used_at = 0 AND expires_at > ?1
	RETURNING ` + signInRequestColumns

// UseSignInRequest marks the unused, unexpired request of kind whose token
// hashes to tokenHash and that was asked by the browser whose pre-session
// hashes to preSessionHash as used at now, and returns it. Any other
// request is ErrNotFound and is left as it was, so a link opened in another
// browser (or by a link-preview robot) does not use it up.
func (s *Store) UseSignInRequest(ctx context.Context, kind, tokenHash, preSessionHash string, now time.Time) (SignInRequest, error) {
	q, err := scanSignInRequest(s.write.QueryRowContext(ctx, useSignInRequestQuery, toDB(now), tokenHash, kind, preSessionHash))
	if errors.Is(err, sql.ErrNoRows) {
		return SignInRequest{}, ErrNotFound
	}
	if err != nil {
		return SignInRequest{}, fmt.Errorf("use sign-in request: %w", mapError(err))
	}
	return q, nil
}

const signInRequestByHashQuery = `SELECT ` + signInRequestColumns + ` FROM signin_requests WHERE token_hash = ?`

// SignInRequestByHash returns the request whose token hashes to tokenHash,
// used or not, or ErrNotFound (to explain a refusal).
func (s *Store) SignInRequestByHash(ctx context.Context, tokenHash string) (SignInRequest, error) {
	q, err := scanSignInRequest(s.read.QueryRowContext(ctx, signInRequestByHashQuery, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return SignInRequest{}, ErrNotFound
	}
	if err != nil {
		return SignInRequest{}, fmt.Errorf("sign-in request: %w", err)
	}
	return q, nil
}

const countSignInRequestsQuery = `
	SELECT
		(SELECT COUNT(*) FROM signin_requests WHERE kind = 'link' AND created_at > ?3 AND (handle = ?1 OR actor_iri = ?4)),
		(SELECT COUNT(*) FROM signin_requests WHERE client_key = ?2 AND created_at > ?3)`

// CountSignInRequests counts the links sent since since for handle or for
// actorIRI (which may be ""), and the requests of any kind made from
// clientKey.
func (tx *Tx) CountSignInRequests(ctx context.Context, handle, actorIRI, clientKey string, since time.Time) (byHandle, byClient int, err error) {
	err = tx.tx.QueryRowContext(ctx, countSignInRequestsQuery, handle, clientKey, toDB(since), actorIRI).Scan(&byHandle, &byClient)
	if err != nil {
		return 0, 0, fmt.Errorf("count sign-in requests: %w", err)
	}
	return byHandle, byClient, nil
}

// CountSignInRequests is the read-only twin of Tx.CountSignInRequests, for
// a check before any network request is made.
func (s *Store) CountSignInRequests(ctx context.Context, handle, actorIRI, clientKey string, since time.Time) (byHandle, byClient int, err error) {
	err = s.read.QueryRowContext(ctx, countSignInRequestsQuery, handle, clientKey, toDB(since), actorIRI).Scan(&byHandle, &byClient)
	if err != nil {
		return 0, 0, fmt.Errorf("count sign-in requests: %w", err)
	}
	return byHandle, byClient, nil
}

const deleteOldSignInRequestsQuery = `DELETE FROM signin_requests WHERE created_at <= ?`

// DeleteOldSignInRequests deletes the requests made before before.
func (tx *Tx) DeleteOldSignInRequests(ctx context.Context, before time.Time) error {
	if _, err := tx.tx.ExecContext(ctx, deleteOldSignInRequestsQuery, toDB(before)); err != nil {
		return fmt.Errorf("delete old sign-in requests: %w", mapError(err))
	}
	return nil
}

// OAuthApp is an app registered with a server that speaks the Mastodon
// client API.
type OAuthApp struct {
	Server       string // origin, e.g. https://example.social
	RedirectURI  string
	ClientID     string
	ClientSecret string
	CreatedAt    time.Time
}

const oauthAppQuery = `
	SELECT server, redirect_uri, client_id, client_secret, created_at
	FROM oauth_apps WHERE server = ? AND redirect_uri = ?`

// OAuthApp returns the app registered with server for redirectURI, or
// ErrNotFound.
func (s *Store) OAuthApp(ctx context.Context, server, redirectURI string) (OAuthApp, error) {
	var a OAuthApp
	var created int64
	err := s.read.QueryRowContext(ctx, oauthAppQuery, server, redirectURI).Scan(&a.Server, &a.RedirectURI, &a.ClientID, &a.ClientSecret, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return OAuthApp{}, ErrNotFound
	}
	if err != nil {
		return OAuthApp{}, fmt.Errorf("oauth app of %s: %w", server, err)
	}
	a.CreatedAt = fromDB(created)
	return a, nil
}

const saveOAuthAppQuery = `
	INSERT INTO oauth_apps (server, redirect_uri, client_id, client_secret, created_at) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (server, redirect_uri) DO UPDATE SET client_id = excluded.client_id,
		client_secret = excluded.client_secret, created_at = excluded.created_at`

// SaveOAuthApp stores the app registered with a server, replacing an
// older registration for the same redirect URI.
func (s *Store) SaveOAuthApp(ctx context.Context, a OAuthApp) error {
	if _, err := s.write.ExecContext(ctx, saveOAuthAppQuery, a.Server, a.RedirectURI, a.ClientID, a.ClientSecret, toDB(a.CreatedAt)); err != nil {
		return fmt.Errorf("save oauth app of %s: %w", a.Server, mapError(err))
	}
	return nil
}

// MemberSession is a member signed in to the site with a fediverse
// account. TokenHash is the hex SHA-256 of the cookie's token.
type MemberSession struct {
	TokenHash string
	ActorIRI  string
	Handle    string // @name@host
	Method    string // SignInLink or SignInOAuth
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

const createMemberSessionQuery = `
	INSERT INTO member_sessions (token_hash, actor_iri, handle, method, csrf_token, created_at, expires_at)
	VALUES (?, ?, ?, ?, ?, ?, ?)`

// CreateMemberSession stores a member session.
func (s *Store) CreateMemberSession(ctx context.Context, m MemberSession) error {
	_, err := s.write.ExecContext(ctx, createMemberSessionQuery, m.TokenHash, m.ActorIRI, m.Handle, m.Method, m.CSRFToken,
		toDB(m.CreatedAt), toDB(m.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create member session for %s: %w", m.ActorIRI, mapError(err))
	}
	return nil
}

const memberSessionQuery = `
	SELECT token_hash, actor_iri, handle, method, csrf_token, created_at, expires_at
	FROM member_sessions WHERE token_hash = ? AND expires_at > ?`

// MemberSessionByHash returns the member session whose token hashes to
// tokenHash and that has not expired at now, or ErrNotFound.
func (s *Store) MemberSessionByHash(ctx context.Context, tokenHash string, now time.Time) (MemberSession, error) {
	var m MemberSession
	var created, expires int64
	err := s.read.QueryRowContext(ctx, memberSessionQuery, tokenHash, toDB(now)).Scan(&m.TokenHash, &m.ActorIRI, &m.Handle,
		&m.Method, &m.CSRFToken, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return MemberSession{}, ErrNotFound
	}
	if err != nil {
		return MemberSession{}, fmt.Errorf("member session: %w", err)
	}
	m.CreatedAt, m.ExpiresAt = fromDB(created), fromDB(expires)
	return m, nil
}

const deleteMemberSessionQuery = `DELETE FROM member_sessions WHERE token_hash = ?`

// DeleteMemberSession deletes a member session; deleting one that is gone
// is not an error.
func (s *Store) DeleteMemberSession(ctx context.Context, tokenHash string) error {
	if _, err := s.write.ExecContext(ctx, deleteMemberSessionQuery, tokenHash); err != nil {
		return fmt.Errorf("delete member session: %w", mapError(err))
	}
	return nil
}

const deleteExpiredMemberSessionsQuery = `DELETE FROM member_sessions WHERE expires_at <= ?`

// DeleteExpiredMemberSessions deletes the member sessions expired at now.
func (s *Store) DeleteExpiredMemberSessions(ctx context.Context, now time.Time) error {
	if _, err := s.write.ExecContext(ctx, deleteExpiredMemberSessionsQuery, toDB(now)); err != nil {
		return fmt.Errorf("delete expired member sessions: %w", mapError(err))
	}
	return nil
}
