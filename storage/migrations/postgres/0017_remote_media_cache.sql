-- Remote media cache: avatars, headers and attachments of remote accounts and statuses,
-- fetched once by the worker and served from here. One row per owner (an attachment, or
-- an account's avatar or header) is both the persisted queue (state 'pending', attempts,
-- next_attempt_at) and the record of the cached files (state 'cached', bytes on disk and
-- the last time they were served, for least-recently-used eviction).

CREATE TABLE remote_media (
    id BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    remote_url TEXT NOT NULL,
    domain TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    file_path TEXT NOT NULL DEFAULT '',
    preview_path TEXT NOT NULL DEFAULT '',
    bytes BIGINT NOT NULL DEFAULT 0,
    last_access_at BIGINT NOT NULL DEFAULT 0,
    fetched_at BIGINT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    UNIQUE (kind, owner_id)
);
CREATE INDEX remote_media_due ON remote_media (next_attempt_at) WHERE state = 'pending';
CREATE INDEX remote_media_lru ON remote_media (last_access_at) WHERE state = 'cached';
CREATE INDEX remote_media_file ON remote_media (file_path) WHERE state = 'cached';

-- The cached copy of a remote account's avatar and header (a path under the media
-- directory; its name carries a hash of the remote URL it copies, so a changed avatar
-- shows the remote one until the new one is fetched).
ALTER TABLE accounts ADD COLUMN avatar_cache TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN header_cache TEXT NOT NULL DEFAULT '';
