-- Search rows are keyed by rowid (issue 13): a document's row is
-- ref * 8 + the number of its kind (post 0, resource 1, wiki 2; see
-- storage.searchRowID). Replacing or removing a document is then a rowid
-- lookup; before, it was a scan of the UNINDEXED kind and ref columns
-- through the whole index, inside the write transaction.
CREATE VIRTUAL TABLE search_rows USING fts5 (
	kind UNINDEXED, ref UNINDEXED, community_id UNINDEXED, title, body,
	tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO search_rows (rowid, kind, ref, community_id, title, body)
	SELECT ref * 8 + CASE kind WHEN 'post' THEN 0 WHEN 'resource' THEN 1 ELSE 2 END, kind, ref, community_id, title, body
	FROM search_index WHERE kind IN ('post', 'resource', 'wiki');
DROP TABLE search_index;
ALTER TABLE search_rows RENAME TO search_index;
