-- A fan-out is sent from memory, without a delivery row per inbox
-- (storage/fanout.go, TakeFanOuts): the delivering process leases the
-- fan-out (claimed_until, claimed_by, as for deliveries), sends its
-- inboxes from memory in order, as many at a time as it has room for (cut:
-- the last one taken), and records as it goes the inbox up to which every
-- attempt's outcome is written (done_through). The row is deleted once all
-- of them are. A process that dies leaves the lease to run out; whoever
-- takes the fan-out next sends the inboxes after done_through again.
ALTER TABLE fan_outs ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fan_outs ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE fan_outs ADD COLUMN cut TEXT;
ALTER TABLE fan_outs ADD COLUMN done_through TEXT NOT NULL DEFAULT '';
