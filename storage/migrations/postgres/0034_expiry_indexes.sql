-- Expired web sessions and e-mail tokens are deleted by a periodic job across all users:
-- the cut is an index range rather than a scan of every row.
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
CREATE INDEX user_tokens_expiry ON user_tokens (expires_at);
