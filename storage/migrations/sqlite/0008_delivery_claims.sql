-- Claiming deliveries reads due rows host by host and the rows in flight;
-- these indexes keep a claim cheap with a large queue (FLT-13).
CREATE INDEX deliveries_host_due ON deliveries (state, host, next_attempt_at, claimed_until);
CREATE INDEX deliveries_claimed ON deliveries (claimed_until);
