-- A fan-out's payload is stored once, not in each of its delivery rows: a post to 1,000
-- followers wrote 1,000 copies (~3 KB each, a page per row), and claiming or finishing the
-- rows rewrote them. Rows of earlier versions keep their payload inline (payload_id NULL).
CREATE TABLE delivery_payloads (
    id BIGINT PRIMARY KEY,
    payload TEXT NOT NULL
);
ALTER TABLE delivery_queue ADD COLUMN payload_id BIGINT;
CREATE INDEX delivery_queue_payload ON delivery_queue (payload_id) WHERE payload_id IS NOT NULL;
