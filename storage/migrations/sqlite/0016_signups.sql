-- Sign-ups (Mastodon's POST /api/v1/accounts): the reason a person gave for joining, the
-- invite they came with, and whether their e-mail address is confirmed (existing users
-- are: they were made by an operator). Invites are codes an admin hands out, with an
-- optional limit of uses and an expiry. One-time tokens (e-mail confirmation, password
-- reset) are kept as SHA-256 hex digests. Outgoing mail is a persisted queue: a failing
-- mail server delays a mail, it does not fail the request that sent it.

CREATE TABLE invites (
    id BIGINT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    comment TEXT NOT NULL DEFAULT '',
    max_uses INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    expires_at BIGINT,
    revoked_at BIGINT,
    created_at BIGINT NOT NULL
);

-- NULL: the address awaits confirmation. A writer that does not name the column makes a
-- confirmed user (0: confirmed, time unknown), as every user was before.
ALTER TABLE users ADD COLUMN confirmed_at BIGINT DEFAULT 0;
UPDATE users SET confirmed_at = created_at;
ALTER TABLE users ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN invite_id BIGINT REFERENCES invites (id) ON DELETE SET NULL;

CREATE TABLE user_tokens (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose);

CREATE TABLE mail_outbox (
    id BIGINT PRIMARY KEY,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);
