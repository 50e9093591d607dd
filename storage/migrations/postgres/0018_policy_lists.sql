-- Shared policy lists: what this instance publishes, the lists it subscribes to, the
-- drafts a review-mode subscription leaves for an admin, and the instance actor's Ed25519
-- key that signs the published list (an FEP-8b32 proof, announced as an assertionMethod).

-- Per domain rule (kind 'block' | 'allow'): published or not, and which subscription
-- manages it (NULL: the admin's own, or adopted by the admin). Kept apart from the rule
-- rows so that rules from the configuration file can be published too.
CREATE TABLE policy_list_marks (
    kind TEXT NOT NULL,
    domain TEXT NOT NULL,
    published BOOLEAN NOT NULL DEFAULT FALSE,
    subscription_id BIGINT,
    public_comment TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, domain)
);
CREATE INDEX policy_list_marks_subscription ON policy_list_marks (subscription_id);

CREATE TABLE policy_subscriptions (
    id BIGINT PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    priority INTEGER NOT NULL DEFAULT 0,
    mode TEXT NOT NULL DEFAULT 'apply',
    excludes TEXT NOT NULL DEFAULT '[]',
    severities TEXT NOT NULL DEFAULT '["suspend","silence","noop"]',
    allow_unsigned BOOLEAN NOT NULL DEFAULT FALSE,
    from_config BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    next_sync_at BIGINT NOT NULL DEFAULT 0,
    fetched_at BIGINT,
    successfully_fetched_at BIGINT,
    error TEXT NOT NULL DEFAULT '',
    count INTEGER NOT NULL DEFAULT 0,
    content_type TEXT NOT NULL DEFAULT '',
    signed_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE policy_drafts (
    id BIGINT PRIMARY KEY,
    subscription_id BIGINT NOT NULL REFERENCES policy_subscriptions (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    domain TEXT NOT NULL,
    severity TEXT NOT NULL DEFAULT 'suspend',
    reject_media BOOLEAN NOT NULL DEFAULT FALSE,
    reject_reports BOOLEAN NOT NULL DEFAULT FALSE,
    obfuscate BOOLEAN NOT NULL DEFAULT FALSE,
    public_comment TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (subscription_id, kind, domain)
);

CREATE TABLE instance_multikeys (
    account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    key_id TEXT NOT NULL,
    private_multibase TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
