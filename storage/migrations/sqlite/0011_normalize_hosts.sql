-- Hosts are stored normalized since issue 12 (internal/hostname): lower
-- case, IDNA, no trailing dot, no default port. Rows stored before carry
-- the scheme's default port when a peer wrote it (http://gts.test:80/):
-- drop it, so policies and delivery hosts compare equal. Names were already
-- stored in lower case; non-ASCII names are left as they were.
UPDATE actors SET host = substr(host, 1, length(host) - 4) WHERE iri LIKE 'https://%' AND host LIKE '%:443';
UPDATE actors SET host = substr(host, 1, length(host) - 3) WHERE iri LIKE 'http://%' AND host LIKE '%:80';
UPDATE actors SET delivery_host = substr(delivery_host, 1, length(delivery_host) - 4) WHERE delivery_inbox LIKE 'https://%' AND delivery_host LIKE '%:443';
UPDATE actors SET delivery_host = substr(delivery_host, 1, length(delivery_host) - 3) WHERE delivery_inbox LIKE 'http://%' AND delivery_host LIKE '%:80';
UPDATE deliveries SET host = substr(host, 1, length(host) - 4) WHERE inbox LIKE 'https://%' AND host LIKE '%:443';
UPDATE deliveries SET host = substr(host, 1, length(host) - 3) WHERE inbox LIKE 'http://%' AND host LIKE '%:80';
-- A policy typed with port 80 or 443 covers the host on every port now;
-- when both spellings exist, the one without a port stays.
UPDATE OR IGNORE domain_policies SET host = substr(host, 1, length(host) - 4) WHERE host LIKE '%:443';
UPDATE OR IGNORE domain_policies SET host = substr(host, 1, length(host) - 3) WHERE host LIKE '%:80';
UPDATE domain_policies SET host = substr(host, 1, length(host) - 1) WHERE host LIKE '%.' AND substr(host, 1, length(host) - 1) NOT IN (SELECT host FROM domain_policies);
