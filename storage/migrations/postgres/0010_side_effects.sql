-- Nothing an activity makes is lost across a crash, and nothing is made twice.
--
-- A notification carries the key of the change that made it (the status for a mention,
-- the favourite for a favourite, the follow's activity id for a follow...): making it again
-- for the same account does nothing. An inbox activity run again after a crash completes
-- what is missing without doubling what was done. Rows from before carry NULL, never equal
-- to another in a unique index.
ALTER TABLE notifications ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX notifications_dedupe ON notifications (account_id, dedupe_key);

-- What is still owed after a status was stored (its notifications, streaming events and,
-- for a local status, its delivery rows), written in the same transaction as the status.
-- The code that stored it completes the row and deletes it; after a crash, the inbox
-- activity run again or the worker (once the row is due) completes it instead.
CREATE TABLE pending_effects (
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (status_id, event)
);
CREATE INDEX pending_effects_due ON pending_effects (next_attempt_at);
