-- Roles of members: owner, moderator, broker, member.
ALTER TABLE follows ADD COLUMN role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'moderator', 'broker', 'member'));

-- Actors banned from a community: their follows are refused and their posts too.
CREATE TABLE bans (
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	actor_iri TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	by TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (community_id, actor_iri)
);

-- Reports (Flag) about content in a community, waiting for a moderator.
CREATE TABLE reports (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	iri TEXT NOT NULL UNIQUE,
	reporter_iri TEXT NOT NULL,
	objects TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'dismissed', 'resolved')),
	resolution TEXT NOT NULL DEFAULT '',
	resolved_by TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	resolved_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX reports_open ON reports (community_id, state, id);

-- What moderators did, per community; public by default.
CREATE TABLE mod_log (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	by TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE INDEX mod_log_community ON mod_log (community_id, id DESC);

-- Instance federation policy per host: block, silence, reject_media, or
-- allow (a partner, for allowlist mode).
CREATE TABLE domain_policies (
	host TEXT PRIMARY KEY,
	policy TEXT NOT NULL CHECK (policy IN ('block', 'silence', 'reject_media', 'allow')),
	created_at INTEGER NOT NULL
);

-- Instance-wide settings, such as the federation mode (open or allowlist).
CREATE TABLE settings (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

-- The contribution ledger: one row per thing a member did in a community.
CREATE TABLE contributions (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	actor_iri TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('thread', 'reply', 'like_received', 'resource_proposed', 'resource_published', 'meeting_attended')),
	ref TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (community_id, actor_iri, kind, ref)
);
CREATE INDEX contributions_recent ON contributions (community_id, created_at);
CREATE INDEX contributions_actor ON contributions (actor_iri, community_id);
