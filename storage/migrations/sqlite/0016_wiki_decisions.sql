-- The community wiki: pages, each with every revision kept.
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
CREATE INDEX wiki_pages_recent ON wiki_pages (community_id, updated_at DESC);

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

-- Who may edit a community's wiki on the site: members or moderators.
ALTER TABLE communities ADD COLUMN wiki_policy TEXT NOT NULL DEFAULT 'members' CHECK (wiki_policy IN ('members', 'moderators'));

-- Decisions: polls a community opens; votes from members only.
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
CREATE INDEX decisions_open ON decisions (closed_at, closes_at);
CREATE INDEX decisions_community ON decisions (community_id, created_at DESC);

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
