-- A key id has one owner (issue 12, SIG-20). Keys stored before could be
-- claimed by an actor on another host, or by two actors at once: drop those
-- keys (the next signed request fetches the key id itself, whose document
-- names the true owner), then make key_id unique.
UPDATE actors SET key_id = '', public_key_pem = ''
WHERE key_id != '' AND key_id NOT LIKE substr(iri, 1, 8 + instr(substr(iri, 9), '/')) || '%';
UPDATE actors SET key_id = '', public_key_pem = ''
WHERE key_id IN (SELECT key_id FROM actors WHERE key_id != '' GROUP BY key_id HAVING COUNT(*) > 1);
DROP INDEX actors_key_id;
CREATE UNIQUE INDEX actors_key_id ON actors (key_id) WHERE key_id != '';
