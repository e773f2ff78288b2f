-- A community's outbox_version changes with every write that changes what
-- its outbox lists (an activity listed, withdrawn or deleted), in the
-- transaction of that write. A server keeps its rendered outbox pages and
-- checks them against the version it reads with the community's row on
-- every GET, so a page is never served after another process, or a
-- command, changed the outbox (issue 13's read path). Triggers keep it
-- whatever statement does the write, so no write path can forget it.
ALTER TABLE communities ADD COLUMN outbox_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER outbox_version_insert AFTER INSERT ON outbox_activities
	WHEN NEW.community_id IS NOT NULL AND NEW.listed = 1 AND NEW.withdrawn_at = 0
BEGIN
	UPDATE communities SET outbox_version = outbox_version + 1 WHERE id = NEW.community_id;
END;

CREATE TRIGGER outbox_version_update AFTER UPDATE OF iri, community_id, listed, withdrawn_at ON outbox_activities
	WHEN (OLD.listed = 1 AND OLD.withdrawn_at = 0) OR (NEW.listed = 1 AND NEW.withdrawn_at = 0)
BEGIN
	UPDATE communities SET outbox_version = outbox_version + 1 WHERE id IN (OLD.community_id, NEW.community_id);
END;

CREATE TRIGGER outbox_version_delete AFTER DELETE ON outbox_activities
	WHEN OLD.community_id IS NOT NULL AND OLD.listed = 1 AND OLD.withdrawn_at = 0
BEGIN
	UPDATE communities SET outbox_version = outbox_version + 1 WHERE id = OLD.community_id;
END;
