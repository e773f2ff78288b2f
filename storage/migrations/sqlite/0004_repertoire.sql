-- The shared repertoire: links, documents, stories, tools and methods a
-- community curates. proposed → published → archived.
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
CREATE INDEX resources_state ON resources (community_id, state, published_at DESC);
CREATE UNIQUE INDEX resources_source ON resources (community_id, source_iri) WHERE source_iri != '';

-- Meetings: Event objects of a community, with RSVPs.
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
);
CREATE INDEX meetings_start ON meetings (community_id, start_at);

-- One answer per actor and meeting; the last one wins.
CREATE TABLE rsvps (
	meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
	actor_iri TEXT NOT NULL,
	answer TEXT NOT NULL CHECK (answer IN ('going', 'maybe', 'declined')),
	activity_iri TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (meeting_id, actor_iri)
);

-- Full-text search over published resources and discussion posts.
CREATE VIRTUAL TABLE search_index USING fts5 (
	kind UNINDEXED, ref UNINDEXED, community_id UNINDEXED, title, body,
	tokenize = 'unicode61 remove_diacritics 2'
);
