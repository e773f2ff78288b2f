-- The instance itself: its key pair for the Application actor that signs fetches.
CREATE TABLE instance (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	private_key_pem TEXT NOT NULL,
	public_key_pem TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

-- A community of practice, served as an ActivityPub Group actor.
CREATE TABLE communities (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	summary TEXT NOT NULL DEFAULT '',
	join_mode TEXT NOT NULL DEFAULT 'open' CHECK (join_mode IN ('open', 'approval', 'invite')),
	posting_policy TEXT NOT NULL DEFAULT 'members' CHECK (posting_policy IN ('members', 'anyone', 'moderators')),
	discoverable INTEGER NOT NULL DEFAULT 1,
	private_key_pem TEXT NOT NULL,
	public_key_pem TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

-- Console accounts.
CREATE TABLE admins (
	id INTEGER PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
