-- A post's announces are queued for the community's followers as one row
-- here, in the post's own transaction, and expanded into one delivery per
-- inbox afterwards, in transactions of their own (issue 13): a hundred
-- delivery rows or more per post made every post of a group commit wait
-- for all of them. The delivery worker expands the rows before it claims;
-- an expansion inserts the deliveries and deletes its row in one
-- transaction, so a crash in between loses nothing and sends nothing twice.
CREATE TABLE fan_outs (
	id INTEGER PRIMARY KEY,
	activity_id INTEGER NOT NULL REFERENCES outbox_activities (id) ON DELETE CASCADE,
	community_id INTEGER NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
	family TEXT NOT NULL DEFAULT '',
	queued_at INTEGER NOT NULL
);
CREATE INDEX fan_outs_activity ON fan_outs (activity_id);
