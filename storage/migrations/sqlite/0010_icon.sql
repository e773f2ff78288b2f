-- A community's icon (avatar): an uploaded image, stored by content hash.
ALTER TABLE communities ADD COLUMN icon_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE communities ADD COLUMN icon_ext TEXT NOT NULL DEFAULT '';
