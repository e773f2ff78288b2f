-- An Announce of a member's activity embeds the activity as the raw log
-- keeps it (storage/embed.go): the outbox row then holds a reference to
-- the raw log's row (embed_id, 0 for none) and the offset in its body
-- where the activity goes (embed_at), not a second copy.
ALTER TABLE outbox_activities ADD COLUMN embed_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox_activities ADD COLUMN embed_at INTEGER NOT NULL DEFAULT 0;
