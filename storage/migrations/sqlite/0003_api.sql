-- Client API: signing secrets for the web forms, private notes on accounts, featured tags,
-- and indexes for the paged "my favourites / bookmarks" and grouped notification reads.

CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE account_notes (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    comment TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, target_account_id)
);

CREATE TABLE featured_tags (
    id INTEGER PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, tag_id)
);

CREATE INDEX favourites_account ON favourites (account_id, id);
CREATE INDEX bookmarks_account ON bookmarks (account_id, id);
CREATE INDEX status_pins_account ON status_pins (account_id, id);
CREATE INDEX notifications_group ON notifications (account_id, group_key);
