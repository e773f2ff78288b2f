-- Kinds of console accounts: instance admins run everything; stewards run
-- the communities they are given.
ALTER TABLE admins ADD COLUMN kind TEXT NOT NULL DEFAULT 'admin' CHECK (kind IN ('admin', 'steward'));

-- The communities a steward runs, and as what.
CREATE TABLE stewards (
	admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	role TEXT NOT NULL CHECK (role IN ('moderator', 'broker')),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (admin_id, community_id)
);

-- Console sessions. Only the SHA-256 of the cookie's token is kept, so a
-- copy of the database signs nobody in.
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
	csrf_token TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- What console users did, newest last.
CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY,
	username TEXT NOT NULL,
	action TEXT NOT NULL,
	community TEXT NOT NULL DEFAULT '',
	target TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);

-- An archived community takes no new members or posts; 0 means active.
ALTER TABLE communities ADD COLUMN archived_at INTEGER NOT NULL DEFAULT 0;
