-- fedinode schema, first wave. Timestamps are integer milliseconds since the epoch (UTC);
-- ids are time-ordered 64-bit snowflakes made by storage.ids; JSON is stored as text.

CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL,
    domain TEXT NOT NULL DEFAULT '',            -- '' for local accounts
    uri TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL DEFAULT '',
    actor_type TEXT NOT NULL DEFAULT 'Person',
    display_name TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',              -- HTML (sanitised for remote accounts)
    note_source TEXT NOT NULL DEFAULT '',
    avatar_url TEXT NOT NULL DEFAULT '',
    header_url TEXT NOT NULL DEFAULT '',
    locked BOOLEAN NOT NULL DEFAULT FALSE,
    bot BOOLEAN NOT NULL DEFAULT FALSE,
    discoverable BOOLEAN NOT NULL DEFAULT TRUE,
    indexable BOOLEAN NOT NULL DEFAULT TRUE,
    fields TEXT NOT NULL DEFAULT '[]',
    emojis TEXT NOT NULL DEFAULT '[]',
    also_known_as TEXT NOT NULL DEFAULT '[]',
    moved_to_account_id BIGINT,
    inbox_url TEXT NOT NULL DEFAULT '',
    outbox_url TEXT NOT NULL DEFAULT '',
    shared_inbox_url TEXT NOT NULL DEFAULT '',
    followers_url TEXT NOT NULL DEFAULT '',
    following_url TEXT NOT NULL DEFAULT '',
    featured_url TEXT NOT NULL DEFAULT '',
    public_key_id TEXT NOT NULL DEFAULT '',
    public_key_pem TEXT NOT NULL DEFAULT '',
    private_key_pem TEXT NOT NULL DEFAULT '',
    statuses_count BIGINT NOT NULL DEFAULT 0,
    followers_count BIGINT NOT NULL DEFAULT 0,
    following_count BIGINT NOT NULL DEFAULT 0,
    last_status_at BIGINT,
    silenced BOOLEAN NOT NULL DEFAULT FALSE,
    suspended BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    fetched_at BIGINT
);
CREATE UNIQUE INDEX accounts_handle ON accounts (lower(username), domain);
CREATE INDEX accounts_public_key_id ON accounts (public_key_id);
CREATE INDEX accounts_domain ON accounts (domain);

CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    approved BOOLEAN NOT NULL DEFAULT TRUE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    locale TEXT NOT NULL DEFAULT 'en',
    settings TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE statuses (
    id BIGINT PRIMARY KEY,
    uri TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL DEFAULT '',
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    local BOOLEAN NOT NULL,
    in_reply_to_id BIGINT,
    in_reply_to_uri TEXT,
    in_reply_to_account_id BIGINT,
    reblog_of_id BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    conversation TEXT,
    content TEXT NOT NULL DEFAULT '',          -- HTML
    text TEXT NOT NULL DEFAULT '',             -- source, local statuses
    spoiler_text TEXT NOT NULL DEFAULT '',
    sensitive BOOLEAN NOT NULL DEFAULT FALSE,
    visibility TEXT NOT NULL DEFAULT 'public', -- public | unlisted | private | direct
    language TEXT,
    emojis TEXT NOT NULL DEFAULT '[]',
    application_id BIGINT,
    replies_count BIGINT NOT NULL DEFAULT 0,
    reblogs_count BIGINT NOT NULL DEFAULT 0,
    favourites_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    edited_at BIGINT,
    deleted_at BIGINT
);
CREATE INDEX statuses_account_id ON statuses (account_id, id);
CREATE INDEX statuses_in_reply_to ON statuses (in_reply_to_id);
CREATE INDEX statuses_reblog_of ON statuses (reblog_of_id);
CREATE INDEX statuses_public ON statuses (id) WHERE visibility = 'public' AND reblog_of_id IS NULL;

CREATE TABLE status_edits (
    id BIGINT PRIMARY KEY,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    text TEXT NOT NULL DEFAULT '',
    spoiler_text TEXT NOT NULL DEFAULT '',
    sensitive BOOLEAN NOT NULL DEFAULT FALSE,
    media TEXT NOT NULL DEFAULT '[]',
    poll TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX status_edits_status ON status_edits (status_id, id);

CREATE TABLE mentions (
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    silent BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (status_id, account_id)
);
CREATE INDEX mentions_account ON mentions (account_id, status_id);

CREATE TABLE tags (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,                 -- NFC, case-folded
    display_name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE status_tags (
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, status_id)
);
CREATE INDEX status_tags_status ON status_tags (status_id);

CREATE TABLE media_attachments (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id BIGINT REFERENCES statuses (id) ON DELETE SET NULL,
    type TEXT NOT NULL DEFAULT 'image',
    content_type TEXT NOT NULL DEFAULT '',
    file_path TEXT NOT NULL DEFAULT '',
    preview_path TEXT NOT NULL DEFAULT '',
    remote_url TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    focus_x DOUBLE PRECISION NOT NULL DEFAULT 0,
    focus_y DOUBLE PRECISION NOT NULL DEFAULT 0,
    blurhash TEXT,
    meta TEXT NOT NULL DEFAULT '{}',
    size BIGINT NOT NULL DEFAULT 0,
    position INTEGER NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX media_status ON media_attachments (status_id);

CREATE TABLE polls (
    id BIGINT PRIMARY KEY,
    status_id BIGINT NOT NULL UNIQUE REFERENCES statuses (id) ON DELETE CASCADE,
    options TEXT NOT NULL,                     -- JSON list of titles
    votes TEXT NOT NULL DEFAULT '[]',          -- JSON list of counts (remote totals)
    multiple BOOLEAN NOT NULL DEFAULT FALSE,
    hide_totals BOOLEAN NOT NULL DEFAULT FALSE,
    voters_count BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE poll_votes (
    id BIGINT PRIMARY KEY,
    poll_id BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    choice INTEGER NOT NULL,
    uri TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (poll_id, account_id, choice)
);

CREATE TABLE follows (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri TEXT,
    show_reblogs BOOLEAN NOT NULL DEFAULT TRUE,
    notify BOOLEAN NOT NULL DEFAULT FALSE,
    languages TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX follows_target ON follows (target_account_id, account_id);

CREATE TABLE follow_requests (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri TEXT,
    show_reblogs BOOLEAN NOT NULL DEFAULT TRUE,
    notify BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX follow_requests_target ON follow_requests (target_account_id, id);

CREATE TABLE blocks (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    uri TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX blocks_target ON blocks (target_account_id);

CREATE TABLE mutes (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hide_notifications BOOLEAN NOT NULL DEFAULT TRUE,
    expires_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, target_account_id)
);

CREATE TABLE favourites (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    uri TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, status_id)
);
CREATE INDEX favourites_status ON favourites (status_id);

CREATE TABLE bookmarks (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, status_id)
);

CREATE TABLE status_pins (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, status_id)
);

CREATE TABLE conversation_mutes (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    conversation TEXT NOT NULL,
    PRIMARY KEY (account_id, conversation)
);

CREATE TABLE notifications (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    status_id BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    report_id BIGINT,
    group_key TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_account ON notifications (account_id, id);

CREATE TABLE reports (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_ids TEXT NOT NULL DEFAULT '[]',
    comment TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT 'other',
    rule_ids TEXT NOT NULL DEFAULT '[]',
    forwarded BOOLEAN NOT NULL DEFAULT FALSE,
    uri TEXT,
    assigned_account_id BIGINT,
    action_taken_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE oauth_apps (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    website TEXT,
    redirect_uris TEXT NOT NULL,
    scopes TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    client_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE oauth_tokens (
    id BIGINT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    app_id BIGINT REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id BIGINT REFERENCES users (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT,
    last_used_at BIGINT
);

CREATE TABLE oauth_codes (
    code_hash TEXT PRIMARY KEY,
    app_id BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    code_challenge TEXT,
    code_challenge_method TEXT,
    expires_at BIGINT NOT NULL
);

CREATE TABLE inbox_queue (
    id BIGINT PRIMARY KEY,
    activity_id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    peer TEXT NOT NULL,
    actor TEXT NOT NULL,
    recipient_account_id BIGINT,
    state TEXT NOT NULL DEFAULT 'queued',      -- queued | processing | done | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX inbox_queue_ready ON inbox_queue (state, next_attempt_at);

CREATE TABLE delivery_queue (
    id BIGINT PRIMARY KEY,
    activity_id TEXT NOT NULL,
    inbox_url TEXT NOT NULL,
    peer TEXT NOT NULL,
    sender_account_id BIGINT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',      -- queued | sending | done | retry | dead
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    UNIQUE (activity_id, inbox_url)
);
CREATE INDEX delivery_queue_ready ON delivery_queue (state, next_attempt_at);

CREATE TABLE peers (
    domain TEXT PRIMARY KEY,
    first_seen_at BIGINT NOT NULL,
    last_success_at BIGINT,
    failures INTEGER NOT NULL DEFAULT 0,
    unreachable_since BIGINT,
    software TEXT
);

CREATE TABLE domain_blocks (
    id BIGINT PRIMARY KEY,
    domain TEXT NOT NULL UNIQUE,
    severity TEXT NOT NULL DEFAULT 'silence',
    reject_media BOOLEAN NOT NULL DEFAULT FALSE,
    reject_reports BOOLEAN NOT NULL DEFAULT FALSE,
    federated_timeline_removal BOOLEAN NOT NULL DEFAULT FALSE,
    followers_only BOOLEAN NOT NULL DEFAULT FALSE,
    avatar_removal BOOLEAN NOT NULL DEFAULT FALSE,
    banner_removal BOOLEAN NOT NULL DEFAULT FALSE,
    reject_deletes BOOLEAN NOT NULL DEFAULT FALSE,
    private_comment TEXT NOT NULL DEFAULT '',
    public_comment TEXT NOT NULL DEFAULT '',
    obfuscate BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);

CREATE TABLE domain_allows (
    id BIGINT PRIMARY KEY,
    domain TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE policy_decisions (
    id BIGINT PRIMARY KEY,
    time BIGINT NOT NULL,
    direction TEXT NOT NULL,
    peer TEXT NOT NULL,
    actor TEXT,
    activity_id TEXT,
    activity_type TEXT,
    rule TEXT NOT NULL,
    action TEXT NOT NULL,
    enforced BOOLEAN NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX policy_decisions_time ON policy_decisions (time);

CREATE TABLE lists (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    replies_policy TEXT NOT NULL DEFAULT 'list',
    exclusive BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);

CREATE TABLE list_accounts (
    list_id BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, account_id)
);

CREATE TABLE markers (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline TEXT NOT NULL,
    last_read_id TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, timeline)
);

CREATE TABLE filters (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    contexts TEXT NOT NULL DEFAULT '[]',
    action TEXT NOT NULL DEFAULT 'warn',
    expires_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE filter_keywords (
    id BIGINT PRIMARY KEY,
    filter_id BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword TEXT NOT NULL,
    whole_word BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE followed_tags (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, tag_id)
);

CREATE TABLE idempotency_keys (
    account_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    status_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, key)
);
