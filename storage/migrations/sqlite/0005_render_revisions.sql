-- Revision counters for rendered entities: a status's rev moves on every edit, an account's
-- on every profile update, so an in-process cache of rendered JSON keyed by (id, rev,
-- counters) can never serve an old version, whatever the clock did between two changes.

ALTER TABLE statuses ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;

-- "Has the viewer reblogged it": one probe per status. The plain reblog_of_id index is
-- mostly NULLs, which leads SQLite's planner to scan the viewer's statuses instead.
CREATE INDEX statuses_account_reblog ON statuses (account_id, reblog_of_id) WHERE reblog_of_id IS NOT NULL;
