-- Rate-limit counters kept in the database ([rate_limits] storage = "database"), so that
-- every process serving it (serve --workers N, several machines) counts one limit once.
-- A counter starts at its window's first hit and is reset by the first hit after it expires.
CREATE TABLE rate_counters (
    key TEXT PRIMARY KEY,
    count BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX rate_counters_expiry ON rate_counters (expires_at);
