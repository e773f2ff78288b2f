-- What a community's Announces share, so that a deleted or removed post's
-- announces can be withdrawn: object_iri is the post an activity is about,
-- boost marks the Announce of the object itself (the boost microblog servers
-- show, withdrawn with Undo{Announce}), withdrawn_at is when it stopped being
-- served (0: served).
ALTER TABLE outbox_activities ADD COLUMN object_iri TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox_activities ADD COLUMN boost INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox_activities ADD COLUMN withdrawn_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_object ON outbox_activities (object_iri) WHERE object_iri != '';
