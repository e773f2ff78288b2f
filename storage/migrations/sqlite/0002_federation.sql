-- Remote actors as last fetched: keys for signature checks, inboxes for delivery.
CREATE TABLE actors (
	id INTEGER PRIMARY KEY,
	iri TEXT NOT NULL UNIQUE,
	type TEXT NOT NULL,
	host TEXT NOT NULL,
	preferred_username TEXT NOT NULL DEFAULT '',
	name TEXT NOT NULL DEFAULT '',
	inbox TEXT NOT NULL,
	shared_inbox TEXT NOT NULL DEFAULT '',
	-- where fan-out to followers goes: the shared inbox if any, else inbox
	delivery_inbox TEXT NOT NULL,
	delivery_host TEXT NOT NULL,
	key_id TEXT NOT NULL DEFAULT '',
	public_key_pem TEXT NOT NULL DEFAULT '',
	raw TEXT NOT NULL,
	fetched_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE INDEX actors_key_id ON actors (key_id);

-- Followers of a community: pending requests and accepted followers.
CREATE TABLE follows (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	actor_iri TEXT NOT NULL REFERENCES actors (iri),
	follow_iri TEXT NOT NULL,
	state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (community_id, actor_iri)
);
CREATE INDEX follows_community_state ON follows (community_id, state, id);

-- Every activity we accepted, once per id: idempotency and audit.
CREATE TABLE inbox_activities (
	id INTEGER PRIMARY KEY,
	iri TEXT NOT NULL UNIQUE,
	type TEXT NOT NULL,
	actor_iri TEXT NOT NULL,
	community_id INTEGER REFERENCES communities (id) ON DELETE SET NULL,
	raw TEXT NOT NULL,
	received_at INTEGER NOT NULL
);

-- Activities we send. community_id NULL means the instance actor.
CREATE TABLE outbox_activities (
	id INTEGER PRIMARY KEY,
	iri TEXT NOT NULL UNIQUE,
	community_id INTEGER REFERENCES communities (id) ON DELETE CASCADE,
	type TEXT NOT NULL,
	key_id TEXT NOT NULL,
	body TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

-- The delivery queue: one row per (activity, target inbox) until delivered.
-- Delivered rows are deleted; given-up rows stay with state 'failed'.
CREATE TABLE deliveries (
	id INTEGER PRIMARY KEY,
	activity_id INTEGER NOT NULL REFERENCES outbox_activities (id) ON DELETE CASCADE,
	inbox TEXT NOT NULL,
	host TEXT NOT NULL,
	state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'failed')),
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	claimed_until INTEGER NOT NULL DEFAULT 0,
	queued_at INTEGER NOT NULL,
	last_error TEXT NOT NULL DEFAULT '',
	UNIQUE (activity_id, inbox)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_host_claim ON deliveries (host, claimed_until);

-- Health of the hosts we deliver to.
CREATE TABLE hosts (
	host TEXT PRIMARY KEY,
	last_success_at INTEGER NOT NULL DEFAULT 0,
	last_failure_at INTEGER NOT NULL DEFAULT 0,
	consecutive_failures INTEGER NOT NULL DEFAULT 0,
	failing_since INTEGER NOT NULL DEFAULT 0,
	unreachable INTEGER NOT NULL DEFAULT 0,
	retry_after_until INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT ''
);
