-- The write gate orders the group-commit batches of several processes on
-- one PostgreSQL database (see storage/commit.go and the PostgreSQL
-- migration of the same number). SQLite has one writer and never locks
-- it; the table exists so both engines have the same tables.
CREATE TABLE write_gate (id INTEGER PRIMARY KEY);
