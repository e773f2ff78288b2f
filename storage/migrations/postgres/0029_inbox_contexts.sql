-- The raw log of the activities peers send keeps their JSON-LD contexts
-- once too (see 0028 and storage/jsoncontext.go); 0: the raw is whole.
ALTER TABLE inbox_activities ADD COLUMN context_id BIGINT NOT NULL DEFAULT 0;
