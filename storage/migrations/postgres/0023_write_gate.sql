-- The write gate orders the group-commit batches of several processes on
-- one PostgreSQL database (see storage/commit.go). Every batch locks the
-- table first: in SHARE mode, so batches of different processes run side
-- by side, or, when PostgreSQL could not serialize the batch with another
-- one, in EXCLUSIVE mode, so it runs again alone and cannot lose again.
-- LOCK TABLE takes no snapshot, so a batch that waited at the gate still
-- sees everything committed before it passed. Nothing is stored in it.
CREATE TABLE write_gate (id BIGINT PRIMARY KEY);
