CREATE TRIGGER community_version AFTER UPDATE ON communities
	WHEN NEW.version = OLD.version
BEGIN
	UPDATE communities SET version = version + 1 WHERE id = NEW.id;
END;
CREATE TRIGGER community_version_outbox_delete AFTER DELETE ON outbox_activities
	WHEN OLD.listed = 1 AND OLD.withdrawn_at = 0
BEGIN
	UPDATE communities SET version = version + 1 WHERE id = OLD.community_id;
END;
CREATE TRIGGER community_version_outbox_update AFTER UPDATE OF iri, community_id, listed, withdrawn_at ON outbox_activities
	WHEN (OLD.listed = 1 AND OLD.withdrawn_at = 0) OR (NEW.listed = 1 AND NEW.withdrawn_at = 0)
BEGIN
	UPDATE communities SET version = version + 1 WHERE id IN (OLD.community_id, NEW.community_id);
END;
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
CREATE TABLE admins (
	id INTEGER PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at INTEGER NOT NULL
, kind TEXT NOT NULL DEFAULT 'admin' CHECK (kind IN ('admin', 'steward')));
CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY,
	username TEXT NOT NULL,
	action TEXT NOT NULL,
	community TEXT NOT NULL DEFAULT '',
	target TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE TABLE bans (
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	actor_iri TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	by TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (community_id, actor_iri)
);
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
, boost_replies INTEGER NOT NULL DEFAULT 1, archived_at INTEGER NOT NULL DEFAULT 0, rules TEXT NOT NULL DEFAULT '', icon_hash TEXT NOT NULL DEFAULT '', icon_ext TEXT NOT NULL DEFAULT '', wiki_policy TEXT NOT NULL DEFAULT 'members' CHECK (wiki_policy IN ('members', 'moderators')), version INTEGER NOT NULL DEFAULT 0);
CREATE TABLE contributions (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	actor_iri TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('thread', 'reply', 'like_received', 'resource_proposed', 'resource_published', 'meeting_attended')),
	ref TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (community_id, actor_iri, kind, ref)
);
CREATE TABLE decision_options (
	decision_id INTEGER NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	name TEXT NOT NULL,
	PRIMARY KEY (decision_id, position)
);
CREATE TABLE decision_votes (
	decision_id INTEGER NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
	actor_iri TEXT NOT NULL,
	position INTEGER NOT NULL,
	activity_iri TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	PRIMARY KEY (decision_id, actor_iri, position)
);
CREATE TABLE decisions (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	iri TEXT NOT NULL UNIQUE,
	question TEXT NOT NULL,
	multiple INTEGER NOT NULL DEFAULT 0,
	closes_at INTEGER NOT NULL,
	timezone TEXT NOT NULL,
	closed_at INTEGER NOT NULL DEFAULT 0,
	counts_changed_at INTEGER NOT NULL DEFAULT 0,
	created_by TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
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
	last_error TEXT NOT NULL DEFAULT '', claimed_by TEXT NOT NULL DEFAULT '',
	UNIQUE (activity_id, inbox)
);
CREATE TABLE delivery_hours (
	hour INTEGER NOT NULL,
	outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'dropped', 'retried', 'failed')),
	count INTEGER NOT NULL,
	PRIMARY KEY (hour, outcome)
);
CREATE TABLE domain_policies (
	host TEXT PRIMARY KEY,
	policy TEXT NOT NULL CHECK (policy IN ('block', 'silence', 'reject_media', 'allow')),
	created_at INTEGER NOT NULL
);
CREATE TABLE fan_outs (
	id INTEGER PRIMARY KEY,
	activity_id INTEGER NOT NULL REFERENCES outbox_activities (id) ON DELETE CASCADE,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	family TEXT NOT NULL DEFAULT '',
	queued_at INTEGER NOT NULL
, claimed_until INTEGER NOT NULL DEFAULT 0, claimed_by TEXT NOT NULL DEFAULT '', cut TEXT, done_through TEXT NOT NULL DEFAULT '');
CREATE TABLE follows (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	actor_iri TEXT NOT NULL REFERENCES actors (iri),
	follow_iri TEXT NOT NULL,
	state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL, role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'moderator', 'broker', 'member')),
	UNIQUE (community_id, actor_iri)
);
CREATE TABLE held_posts (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	activity_iri TEXT NOT NULL UNIQUE,
	note_iri TEXT NOT NULL UNIQUE,
	actor_iri TEXT NOT NULL,
	submission TEXT NOT NULL,
	received_at INTEGER NOT NULL
);
CREATE TABLE host_software (
	host TEXT PRIMARY KEY,
	name TEXT NOT NULL DEFAULT '',
	family TEXT NOT NULL DEFAULT '' CHECK (family IN ('microblog', 'group', '')),
	checked_at INTEGER NOT NULL
);
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
CREATE TABLE inbox_activities (
	id INTEGER PRIMARY KEY,
	iri TEXT NOT NULL UNIQUE,
	type TEXT NOT NULL,
	actor_iri TEXT NOT NULL,
	community_id INTEGER REFERENCES communities (id) ON DELETE SET NULL,
	raw TEXT NOT NULL,
	received_at INTEGER NOT NULL
, context_id INTEGER NOT NULL DEFAULT 0);
CREATE TABLE instance (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	private_key_pem TEXT NOT NULL,
	public_key_pem TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE TABLE json_contexts (
	id INTEGER PRIMARY KEY,
	context TEXT NOT NULL
);
CREATE TABLE login_failures (
	key TEXT NOT NULL,  -- a client address, or an address and a username
	at INTEGER NOT NULL
);
CREATE TABLE meetings (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	iri TEXT NOT NULL UNIQUE,
	poll_iri TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	start_at INTEGER NOT NULL,
	end_at INTEGER NOT NULL,
	timezone TEXT NOT NULL,
	online_url TEXT NOT NULL DEFAULT '',
	place TEXT NOT NULL DEFAULT '',
	rrule TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'tentative', 'cancelled')),
	capacity INTEGER NOT NULL DEFAULT 0,
	sequence INTEGER NOT NULL DEFAULT 0,
	created_by TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
, counts_changed_at INTEGER NOT NULL DEFAULT 0);
CREATE TABLE member_sessions (
	token_hash TEXT PRIMARY KEY,
	actor_iri TEXT NOT NULL,
	handle TEXT NOT NULL,
	method TEXT NOT NULL CHECK (method IN ('link', 'oauth')),
	csrf_token TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE TABLE mod_log (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	by TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	reason TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
);
CREATE TABLE oauth_apps (
	server TEXT NOT NULL,
	redirect_uri TEXT NOT NULL,
	client_id TEXT NOT NULL,
	client_secret TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (server, redirect_uri)
);
CREATE TABLE outbox_activities (
	id INTEGER PRIMARY KEY,
	iri TEXT NOT NULL UNIQUE,
	community_id INTEGER REFERENCES communities (id) ON DELETE CASCADE,
	type TEXT NOT NULL,
	key_id TEXT NOT NULL,
	body TEXT NOT NULL,
	created_at INTEGER NOT NULL
, listed INTEGER NOT NULL DEFAULT 0, object_iri TEXT NOT NULL DEFAULT '', boost INTEGER NOT NULL DEFAULT 0, withdrawn_at INTEGER NOT NULL DEFAULT 0, context_id INTEGER NOT NULL DEFAULT 0, embed_id INTEGER NOT NULL DEFAULT 0, embed_at INTEGER NOT NULL DEFAULT 0);
CREATE TABLE posts (
	id INTEGER PRIMARY KEY,
	iri TEXT NOT NULL UNIQUE,
	thread_id INTEGER NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	type TEXT NOT NULL,
	author_iri TEXT NOT NULL,
	in_reply_to TEXT NOT NULL DEFAULT '',
	name TEXT NOT NULL DEFAULT '',
	content TEXT NOT NULL DEFAULT '',
	summary TEXT NOT NULL DEFAULT '',
	url TEXT NOT NULL DEFAULT '',
	published INTEGER NOT NULL,
	updated INTEGER NOT NULL DEFAULT 0,
	deleted_at INTEGER NOT NULL DEFAULT 0,
	likes INTEGER NOT NULL DEFAULT 0,
	dislikes INTEGER NOT NULL DEFAULT 0,
	raw TEXT NOT NULL
, activity_id BIGINT NOT NULL DEFAULT 0);
CREATE TABLE queue_depth_hours (
	hour INTEGER PRIMARY KEY,
	depth INTEGER NOT NULL
);
CREATE TABLE related (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	remote_iri TEXT NOT NULL,
	follow_iri TEXT NOT NULL UNIQUE,
	state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected')),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (community_id, remote_iri)
);
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
CREATE TABLE resources (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	iri TEXT NOT NULL UNIQUE,
	kind TEXT NOT NULL CHECK (kind IN ('link', 'document', 'story', 'tool', 'method')),
	title TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	tags TEXT NOT NULL DEFAULT '',
	url TEXT NOT NULL DEFAULT '',
	file_hash TEXT NOT NULL DEFAULT '',
	file_ext TEXT NOT NULL DEFAULT '',
	file_name TEXT NOT NULL DEFAULT '',
	file_type TEXT NOT NULL DEFAULT '',
	file_size INTEGER NOT NULL DEFAULT 0,
	author_iri TEXT NOT NULL DEFAULT '',
	proposed_by TEXT NOT NULL DEFAULT '',
	published_by TEXT NOT NULL DEFAULT '',
	source_iri TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL CHECK (state IN ('proposed', 'published', 'archived')),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	published_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE rsvps (
	meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
	actor_iri TEXT NOT NULL,
	answer TEXT NOT NULL CHECK (answer IN ('going', 'maybe', 'declined')),
	activity_iri TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (meeting_id, actor_iri)
);
CREATE TABLE schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	);
CREATE VIRTUAL TABLE "search_index" USING fts5 (
	kind UNINDEXED, ref UNINDEXED, community_id UNINDEXED, title, body,
	tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE "search_index_config"(k PRIMARY KEY, v) WITHOUT ROWID;
CREATE TABLE "search_index_content"(id INTEGER PRIMARY KEY, c0, c1, c2, c3, c4);
CREATE TABLE "search_index_data"(id INTEGER PRIMARY KEY, block BLOB);
CREATE TABLE "search_index_docsize"(id INTEGER PRIMARY KEY, sz BLOB);
CREATE TABLE "search_index_idx"(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;
CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
	csrf_token TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
);
CREATE TABLE settings (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
CREATE TABLE shares (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	object_iri TEXT NOT NULL,
	source_iri TEXT NOT NULL DEFAULT '',
	broker_iri TEXT NOT NULL,
	activity_iri TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (community_id, object_iri)
);
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
CREATE TABLE stewards (
	admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	role TEXT NOT NULL CHECK (role IN ('moderator', 'broker')),
	created_at INTEGER NOT NULL,
	PRIMARY KEY (admin_id, community_id)
);
CREATE TABLE threads (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	root_iri TEXT NOT NULL,
	title TEXT NOT NULL,
	author_iri TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	last_activity_at INTEGER NOT NULL,
	replies INTEGER NOT NULL DEFAULT 0,
	pinned INTEGER NOT NULL DEFAULT 0,
	locked INTEGER NOT NULL DEFAULT 0,
	removed INTEGER NOT NULL DEFAULT 0,
	UNIQUE (community_id, root_iri)
);
CREATE TABLE votes (
	post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
	actor_iri TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('like', 'dislike')),
	activity_iri TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (post_id, actor_iri)
);
CREATE TABLE wiki_pages (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	slug TEXT NOT NULL,
	iri TEXT NOT NULL UNIQUE,
	title TEXT NOT NULL,
	revision INTEGER NOT NULL DEFAULT 0, -- the number of the current revision
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (community_id, slug)
);
CREATE TABLE wiki_revisions (
	id INTEGER PRIMARY KEY,
	page_id INTEGER NOT NULL REFERENCES wiki_pages (id) ON DELETE CASCADE,
	number INTEGER NOT NULL,
	title TEXT NOT NULL,
	body TEXT NOT NULL,           -- Markdown as written
	html TEXT NOT NULL,           -- rendered and sanitized
	summary TEXT NOT NULL DEFAULT '',
	author TEXT NOT NULL,         -- an actor IRI, or console:NAME, cli:NAME
	created_at INTEGER NOT NULL,
	UNIQUE (page_id, number)
);
CREATE TABLE write_gate (id INTEGER PRIMARY KEY);
CREATE UNIQUE INDEX actors_key_id ON actors (key_id) WHERE key_id != '';
CREATE INDEX contributions_actor ON contributions (actor_iri, community_id);
CREATE INDEX contributions_recent ON contributions (community_id, created_at);
CREATE INDEX decisions_community ON decisions (community_id, created_at DESC);
CREATE INDEX decisions_open ON decisions (closed_at, closes_at);
CREATE INDEX deliveries_claimed ON deliveries (claimed_until) WHERE claimed_until > 0;
CREATE INDEX deliveries_claimed_by ON deliveries (claimed_by) WHERE claimed_by != '';
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_host_claim ON deliveries (host, claimed_until) WHERE claimed_until > 0;
CREATE INDEX deliveries_host_due ON deliveries (state, host, next_attempt_at, claimed_until);
CREATE INDEX fan_outs_activity ON fan_outs (activity_id);
CREATE INDEX follows_community_state ON follows (community_id, state, id);
CREATE INDEX held_posts_community ON held_posts (community_id, id);
CREATE INDEX login_failures_at ON login_failures (at);
CREATE INDEX login_failures_key ON login_failures (key, at);
CREATE INDEX meetings_counts_changed ON meetings (counts_changed_at) WHERE counts_changed_at != 0;
CREATE INDEX meetings_start ON meetings (community_id, start_at);
CREATE INDEX member_sessions_actor ON member_sessions (actor_iri);
CREATE INDEX member_sessions_expiry ON member_sessions (expires_at);
CREATE INDEX mod_log_community ON mod_log (community_id, id DESC);
CREATE INDEX outbox_listed_live ON outbox_activities (community_id, listed, withdrawn_at, id DESC);
CREATE INDEX outbox_object ON outbox_activities (object_iri) WHERE object_iri != '';
CREATE INDEX posts_community_published ON posts (community_id, published);
CREATE INDEX posts_thread ON posts (thread_id, published, id);
CREATE INDEX reports_open ON reports (community_id, state, id);
CREATE UNIQUE INDEX resources_source ON resources (community_id, source_iri) WHERE source_iri != '';
CREATE INDEX resources_state ON resources (community_id, state, published_at DESC);
CREATE INDEX sessions_expiry ON sessions (expires_at);
CREATE INDEX signin_requests_client ON signin_requests (client_key, created_at);
CREATE INDEX signin_requests_created ON signin_requests (created_at);
CREATE INDEX signin_requests_handle ON signin_requests (handle, created_at);
CREATE INDEX threads_recent ON threads (community_id, removed, last_activity_at DESC);
CREATE INDEX wiki_pages_recent ON wiki_pages (community_id, updated_at DESC);
