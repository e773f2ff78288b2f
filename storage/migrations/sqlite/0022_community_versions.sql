-- What a server renders from a community (its Group actor, its outbox) it
-- may serve again while the community's version and the id of the newest
-- activity its outbox lists are unchanged (issue 13's read path; see
-- storage.CommunityVersion). An activity added to the outbox is a new
-- newest id. version changes, in the transaction of the write, with every
-- update of the community's row and with every change that takes an
-- activity out of the outbox or puts an older one back (withdrawn,
-- unlisted, deleted): rare writes, so the row is not written once per
-- post. Triggers keep it, whatever statement does the write.
ALTER TABLE communities ADD COLUMN version INTEGER NOT NULL DEFAULT 0;

-- The guard stops the trigger's own update, and the updates below, from
-- counting twice.
CREATE TRIGGER community_version AFTER UPDATE ON communities
	WHEN NEW.version = OLD.version
BEGIN
	UPDATE communities SET version = version + 1 WHERE id = NEW.id;
END;

CREATE TRIGGER community_version_outbox_update AFTER UPDATE OF iri, community_id, listed, withdrawn_at ON outbox_activities
	WHEN (OLD.listed = 1 AND OLD.withdrawn_at = 0) OR (NEW.listed = 1 AND NEW.withdrawn_at = 0)
BEGIN
	UPDATE communities SET version = version + 1 WHERE id IN (OLD.community_id, NEW.community_id);
END;

CREATE TRIGGER community_version_outbox_delete AFTER DELETE ON outbox_activities
	WHEN OLD.listed = 1 AND OLD.withdrawn_at = 0
BEGIN
	UPDATE communities SET version = version + 1 WHERE id = OLD.community_id;
END;
