-- Domains a user blocks (Mastodon's /api/v1/domain_blocks): their public posts, reblogs of
-- them and notifications from them are hidden from that user, their followers of that user
-- removed and new follows from them refused. The id pages the user's list; the unique key
-- answers "does the user block this domain".
CREATE TABLE account_domain_blocks (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, domain)
);
