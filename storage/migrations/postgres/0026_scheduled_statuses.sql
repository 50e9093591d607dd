-- Scheduled statuses (Mastodon's ``scheduled_at``): what the client asked to post, and when.
--
-- The row is the persisted job: ``next_attempt_at`` starts at ``scheduled_at``; a worker
-- that takes it moves ``next_attempt_at`` ahead (a lease) and deletes the row once the
-- status is posted. The status is posted with an idempotency key derived from the row's
-- id, so a worker that dies between posting and deleting leaves nothing to post twice.
-- ``params`` is the JSON of the request (text, media ids, poll, visibility, …).
CREATE TABLE scheduled_statuses (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scheduled_at BIGINT NOT NULL,
    params TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX scheduled_statuses_due ON scheduled_statuses (next_attempt_at);
CREATE INDEX scheduled_statuses_account ON scheduled_statuses (account_id, id);
