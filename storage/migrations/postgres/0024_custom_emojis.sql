-- Custom emojis: this instance's own (domain '', uploaded by an admin) and those of other
-- servers (seen in Emoji tags of their statuses and profiles; the image is fetched into the
-- remote media cache, kind 'emoji'). Statuses and accounts keep the emojis they show as JSON;
-- the link tables say which of them show an emoji, so a cached copy (or its eviction)
-- reaches each of them.

CREATE TABLE custom_emojis (
    id BIGINT PRIMARY KEY,
    shortcode TEXT NOT NULL,
    domain TEXT NOT NULL DEFAULT '',
    uri TEXT NOT NULL DEFAULT '',
    image_remote_url TEXT NOT NULL DEFAULT '',
    file_path TEXT NOT NULL DEFAULT '',
    static_path TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT '',
    size BIGINT NOT NULL DEFAULT 0,
    category TEXT NOT NULL DEFAULT '',
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    visible_in_picker BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (shortcode, domain)
);

CREATE TABLE status_emojis (
    emoji_id BIGINT NOT NULL,
    status_id BIGINT NOT NULL,
    PRIMARY KEY (emoji_id, status_id)
);

CREATE TABLE account_emojis (
    emoji_id BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    PRIMARY KEY (emoji_id, account_id)
);
