-- URIs of remote statuses their authors deleted. A Delete may be processed before its
-- Create (several inbox workers, retries, fetches): a tombstoned URI is never stored again.
-- Rows are pruned after a week by the federation workers.

CREATE TABLE tombstones (
    uri TEXT PRIMARY KEY,
    account_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX tombstones_created ON tombstones (created_at);
