-- A community's rules: how members are expected to take part.
ALTER TABLE communities ADD COLUMN rules TEXT NOT NULL DEFAULT '';
