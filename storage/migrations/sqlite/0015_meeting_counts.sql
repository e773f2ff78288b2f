-- Meeting answers are sent to followers in batches: counts_changed_at is
-- when the counts first changed since they were last sent (0: sent).
ALTER TABLE meetings ADD COLUMN counts_changed_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX meetings_counts_changed ON meetings (counts_changed_at) WHERE counts_changed_at != 0;
