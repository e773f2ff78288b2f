-- The inbox activity that carries a post's current text (its Create, or
-- its latest Update), 0 when none does (a post fetched as an ancestor).
-- The raw activities keep the text a peer sent; when the post is edited
-- or deleted, the raw of the activity it pointed to is emptied, so a
-- deleted post's text is kept nowhere.
ALTER TABLE posts ADD COLUMN activity_id BIGINT NOT NULL DEFAULT 0;
