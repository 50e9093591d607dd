-- A local interaction's delivery is owed until it is enqueued, and a crash must not lose it.
--
-- Written before the change it federates (favourite, follow, block and their undoing),
-- deleted once its delivery rows are written. A row still there after its grace time is
-- taken by the worker, which sends what the database state then calls for (the Like if
-- the favourite exists, the Undo if it is gone) and nothing when the change never
-- committed. ``uri`` is the id of the activity sent (or undone); ``payload`` what a
-- deleted row no longer holds (a deleted status and the accounts it mentioned).
CREATE TABLE federation_intents (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    account_id BIGINT NOT NULL,
    target_id BIGINT NOT NULL,
    uri TEXT,
    payload TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX federation_intents_due ON federation_intents (next_attempt_at);
