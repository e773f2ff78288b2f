-- Several processes on one database (issue 14). A delivery's lease names
-- the process that holds it, so a process releases and renews only its
-- own; and failed console logins are counted in the database, so the
-- limit holds whichever process a guess reaches.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_claimed_by ON deliveries (claimed_by) WHERE claimed_by != '';

CREATE TABLE login_failures (
	key TEXT NOT NULL,  -- a client address, or an address and a username
	at INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);
