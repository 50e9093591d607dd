-- OAuth client secrets are kept as SHA-256 hex digests, as access tokens and codes are: a
-- copy of the database no longer lets anyone act as a registered app. The secret is shown
-- once, in the POST /api/v1/apps response. Existing secrets are hashed here, in the same
-- transaction as the rename, so no plain secret is left behind; SQLite has no SHA-256 of
-- its own, so the driver registers sha256_hex() on every connection it opens.

ALTER TABLE oauth_apps RENAME COLUMN client_secret TO client_secret_hash;
UPDATE oauth_apps SET client_secret_hash = sha256_hex(client_secret_hash);
