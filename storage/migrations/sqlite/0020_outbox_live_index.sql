-- The outbox lists and counts a community's listed activities that were
-- not withdrawn: with withdrawn_at in the index, both are answered from
-- the index alone (counting 100,000 activities took 117 ms through the
-- table, issue 13's read path).
CREATE INDEX outbox_listed_live ON outbox_activities (community_id, listed, withdrawn_at, id DESC);
DROP INDEX outbox_listed;
