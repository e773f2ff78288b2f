-- The two indexes of leased deliveries hold only leased rows (issue 13).
-- A post into a community with followers on a hundred hosts queues a
-- hundred rows or more, none leased yet, and each of them went into every
-- index of the table: with these two partial, two fewer. The queries that
-- read them say claimed_until > 0, so both engines may use them.
DROP INDEX deliveries_claimed;
DROP INDEX deliveries_host_claim;
CREATE INDEX deliveries_claimed ON deliveries (claimed_until) WHERE claimed_until > 0;
CREATE INDEX deliveries_host_claim ON deliveries (host, claimed_until) WHERE claimed_until > 0;
