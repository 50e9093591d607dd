-- A claimed inbox or delivery row names the process holding its lease: a stable process
-- identity (host and id slot, or a configured worker name) and a token drawn at each start.
-- A process that starts again takes back at once the rows its earlier run held, instead of
-- waiting for their leases to run out. Finished rows clear both.
ALTER TABLE inbox_queue ADD COLUMN lease_owner TEXT;
ALTER TABLE inbox_queue ADD COLUMN lease_boot TEXT;
ALTER TABLE delivery_queue ADD COLUMN lease_owner TEXT;
ALTER TABLE delivery_queue ADD COLUMN lease_boot TEXT;
CREATE INDEX inbox_queue_lease_owner ON inbox_queue (lease_owner) WHERE lease_owner IS NOT NULL;
CREATE INDEX delivery_queue_lease_owner ON delivery_queue (lease_owner) WHERE lease_owner IS NOT NULL;
