-- What a server renders from a community (its Group actor, its outbox) it
-- may keep and serve again while the community's versions are the same
-- (issue 13's read path). Both change in the transaction of the write
-- that makes them change, so a GET that reads them after the commit sees
-- the change, whichever process or command wrote it. Triggers keep them,
-- whatever statement does the write, so no write path can forget them.
--
-- version changes with every other update of the community's row;
-- outbox_version with every change to what its outbox lists: an activity
-- listed, withdrawn or deleted. Only these triggers set either.
ALTER TABLE communities ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE communities ADD COLUMN outbox_version INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER community_version AFTER UPDATE ON communities
	WHEN NEW.version = OLD.version AND NEW.outbox_version = OLD.outbox_version
BEGIN
	UPDATE communities SET version = version + 1 WHERE id = NEW.id;
END;

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
