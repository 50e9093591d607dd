-- Web login sessions (the settings pages and the admin panel) and optional TOTP two-factor.
--
-- A session is a random token in an HttpOnly cookie; only its SHA-256 hex digest is kept.
-- ``otp_secret`` is set while two-factor is being set up and stays once it is confirmed
-- (``otp_enabled_at``); recovery codes are single-use and kept as digests.
CREATE TABLE web_sessions (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    user_agent TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

ALTER TABLE users ADD COLUMN otp_secret TEXT;
ALTER TABLE users ADD COLUMN otp_enabled_at BIGINT;

CREATE TABLE otp_recovery_codes (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX otp_recovery_codes_user ON otp_recovery_codes (user_id);
