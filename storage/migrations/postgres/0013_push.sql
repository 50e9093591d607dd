-- Web Push (Mastodon's /api/v1/push/subscription): one subscription per access token,
-- and the persisted queue of pushes to send (one row per subscription and notification).
-- The raw access token is kept because Mastodon's payload carries it (apps tell their
-- accounts apart by it); a revoked token's subscription is never pushed to, and goes.

CREATE TABLE push_subscriptions (
    id BIGINT PRIMARY KEY,
    token_id BIGINT NOT NULL UNIQUE REFERENCES oauth_tokens (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    standard BOOLEAN NOT NULL DEFAULT FALSE,
    alerts TEXT NOT NULL,
    policy TEXT NOT NULL,
    access_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_account ON push_subscriptions (account_id);

CREATE TABLE push_deliveries (
    id BIGINT PRIMARY KEY,
    subscription_id BIGINT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_error TEXT,
    UNIQUE (subscription_id, notification_id)
);
CREATE INDEX push_deliveries_due ON push_deliveries (state, next_attempt_at);
