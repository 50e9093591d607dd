-- Client API extras: statuses attached to filters, per-account conversation state,
-- moderation state and its audit log, report handling, and indexes for lists and tags.

CREATE TABLE filter_statuses (
    id BIGINT PRIMARY KEY,
    filter_id BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (filter_id, status_id)
);

CREATE INDEX filters_account ON filters (account_id, id);
CREATE INDEX filter_keywords_filter ON filter_keywords (filter_id, id);

CREATE TABLE conversation_states (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    conversation TEXT NOT NULL,
    last_read_id BIGINT NOT NULL DEFAULT 0,
    removed_before_id BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, conversation)
);

CREATE INDEX statuses_direct ON statuses (conversation, id) WHERE visibility = 'direct';

CREATE TABLE account_moderation (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    sensitized BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at BIGINT NOT NULL
);

CREATE TABLE admin_actions (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    target_account_id BIGINT,
    report_id BIGINT,
    action TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX admin_actions_target ON admin_actions (target_account_id, id);

ALTER TABLE reports ADD COLUMN action_taken_by_account_id BIGINT;
CREATE INDEX reports_open ON reports (action_taken_at, id);
CREATE INDEX reports_target ON reports (target_account_id, id);

CREATE INDEX lists_account ON lists (account_id, id);
CREATE INDEX list_accounts_account ON list_accounts (account_id);
CREATE INDEX followed_tags_tag ON followed_tags (tag_id);

CREATE TABLE suggestion_dismissals (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, target_account_id)
);
