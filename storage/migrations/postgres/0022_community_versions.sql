-- What a server renders from a community (its Group actor, its outbox) it
-- may serve again while the community's version and the id of the newest
-- activity its outbox lists are unchanged (issue 13's read path; see
-- storage.CommunityVersion). SQLite's 0022 with PostgreSQL's triggers:
-- version changes, in the transaction of the write, with every update of
-- the community's row and with every change that takes an activity out of
-- the outbox or puts an older one back; an activity added is a new newest
-- id, so posts do not write the community's row, which concurrent
-- transactions of several processes would then fail to serialize.
ALTER TABLE communities ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

-- The guard leaves alone the updates below, which change version already.
CREATE FUNCTION community_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.version := OLD.version + 1;
	RETURN NEW;
END
$$;
CREATE TRIGGER community_version BEFORE UPDATE ON communities
	FOR EACH ROW WHEN (NEW.version = OLD.version) EXECUTE FUNCTION community_version();

CREATE FUNCTION community_version_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE communities SET version = version + 1 WHERE id = OLD.community_id;
	IF TG_OP = 'UPDATE' AND NEW.community_id IS DISTINCT FROM OLD.community_id THEN
		UPDATE communities SET version = version + 1 WHERE id = NEW.community_id;
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER community_version_outbox_update AFTER UPDATE OF iri, community_id, listed, withdrawn_at ON outbox_activities
	FOR EACH ROW WHEN ((OLD.listed = 1 AND OLD.withdrawn_at = 0) OR (NEW.listed = 1 AND NEW.withdrawn_at = 0))
	EXECUTE FUNCTION community_version_outbox();
CREATE TRIGGER community_version_outbox_delete AFTER DELETE ON outbox_activities
	FOR EACH ROW WHEN (OLD.listed = 1 AND OLD.withdrawn_at = 0)
	EXECUTE FUNCTION community_version_outbox();
