-- GRP-06: a post the posting policy does not let through at once (posting
-- 'moderators': anyone else's post) waits here for a moderator, apart from
-- posts and threads, so that no page, feed, collection or search shows it
-- and nothing is announced before a moderator approves it. submission is
-- the post as the inbox read it (JSON), to be placed when approved.
CREATE TABLE held_posts (
	id INTEGER PRIMARY KEY,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	activity_iri TEXT NOT NULL UNIQUE,
	note_iri TEXT NOT NULL UNIQUE,
	actor_iri TEXT NOT NULL,
	submission TEXT NOT NULL,
	received_at INTEGER NOT NULL
);
CREATE INDEX held_posts_community ON held_posts (community_id, id);
