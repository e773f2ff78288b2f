-- Communities a community follows, local or remote Group actors: the links
-- brokers carry knowledge along.
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

-- Objects a broker shared into a community from elsewhere, with provenance.
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
