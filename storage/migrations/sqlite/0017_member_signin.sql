-- Members sign in to the site with the fediverse account they have (issue
-- 15). A sign-in under way is a one-time link sent by direct message or an
-- OAuth state; either is single-use, expires, and is bound to the browser
-- that asked (the SHA-256 of its pre-session cookie). Only SHA-256 hashes
-- of tokens are kept. Rows stay a day after they are used or expire: the
-- rate limits per handle and per client address count them.
CREATE TABLE signin_requests (
	id INTEGER PRIMARY KEY,
	kind TEXT NOT NULL CHECK (kind IN ('link', 'oauth')),
	token_hash TEXT NOT NULL UNIQUE,
	presession_hash TEXT NOT NULL,
	handle TEXT NOT NULL,          -- as typed, normalized: name@host
	actor_iri TEXT NOT NULL DEFAULT '',
	display_handle TEXT NOT NULL DEFAULT '',
	server TEXT NOT NULL DEFAULT '', -- oauth: the origin of the account's server
	code_verifier TEXT NOT NULL DEFAULT '', -- oauth: the PKCE verifier
	client_key TEXT NOT NULL,      -- the client's address (an IPv6 /64)
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX signin_requests_handle ON signin_requests (handle, created_at);
CREATE INDEX signin_requests_client ON signin_requests (client_key, created_at);
CREATE INDEX signin_requests_created ON signin_requests (created_at);

-- Apps registered with servers that speak the Mastodon client API, one per
-- server and redirect URI (POST /api/v1/apps once, then reused).
CREATE TABLE oauth_apps (
	server TEXT NOT NULL,
	redirect_uri TEXT NOT NULL,
	client_id TEXT NOT NULL,
	client_secret TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (server, redirect_uri)
);

-- Signed-in members of the site: the actor, never a password. Only the
-- SHA-256 of the cookie's token is kept.
CREATE TABLE member_sessions (
	token_hash TEXT PRIMARY KEY,
	actor_iri TEXT NOT NULL,
	handle TEXT NOT NULL,
	method TEXT NOT NULL CHECK (method IN ('link', 'oauth')),
	csrf_token TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX member_sessions_expiry ON member_sessions (expires_at);
CREATE INDEX member_sessions_actor ON member_sessions (actor_iri);
