-- A discussion thread: a top-level post and every reply under it.
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
CREATE INDEX threads_recent ON threads (community_id, removed, last_activity_at DESC);

-- Posts: remote Notes, Pages, Articles and Questions in a thread. content
-- is sanitized HTML; raw is the object as received.
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
);
CREATE INDEX posts_thread ON posts (thread_id, published, id);

-- One vote per actor and post: Like, or Lemmy's Dislike.
CREATE TABLE votes (
	post_id INTEGER NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
	actor_iri TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('like', 'dislike')),
	activity_iri TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (post_id, actor_iri)
);

-- Whether replies are boosted to microblog followers too, or only thread starters.
ALTER TABLE communities ADD COLUMN boost_replies INTEGER NOT NULL DEFAULT 1;

-- Activities listed in a community's outbox collection (its Announces).
ALTER TABLE outbox_activities ADD COLUMN listed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_listed ON outbox_activities (community_id, listed, id DESC);
