-- Poll endings are told once: a poll's "notified" flips in the transaction that creates its
-- "poll" notifications. Polls that closed before this migration are not announced late.

ALTER TABLE polls ADD COLUMN notified BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE polls SET notified = TRUE
    WHERE expires_at IS NOT NULL AND expires_at <= (EXTRACT(EPOCH FROM now()) * 1000)::BIGINT;
CREATE INDEX polls_due ON polls (expires_at) WHERE NOT notified AND expires_at IS NOT NULL;
