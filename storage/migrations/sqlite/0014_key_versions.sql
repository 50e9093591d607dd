-- Which version of a derived key (e.g. the hashtag key of policy.text.tag_key) the stored
-- rows carry; the application re-keys those rows once when its version is newer.
CREATE TABLE key_versions (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO key_versions (name, version, updated_at) VALUES ('tags', 0, 0);
