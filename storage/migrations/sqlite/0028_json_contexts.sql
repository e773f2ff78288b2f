-- JSON-LD contexts stored once (storage/jsoncontext.go): an outbox
-- activity whose body began with one keeps the body without it and the
-- context's id (the first 63 bits of its SHA-256); 0 when the body is
-- whole, as in every row written before.
CREATE TABLE json_contexts (
	id INTEGER PRIMARY KEY,
	context TEXT NOT NULL
);
ALTER TABLE outbox_activities ADD COLUMN context_id INTEGER NOT NULL DEFAULT 0;
