-- Link preview cards: one row per linked URL, shared by every status that links it. The row
-- is also the worker's persisted queue (state 'pending' with attempts and a next-attempt
-- time; then 'fetched', or 'failed' when the page gave no card). The card's image goes
-- through the remote media cache (kind 'card'); image_path is its cached copy.

CREATE TABLE preview_cards (
    id BIGINT PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL DEFAULT 'link',
    title TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    author_name TEXT NOT NULL DEFAULT '',
    author_url TEXT NOT NULL DEFAULT '',
    provider_name TEXT NOT NULL DEFAULT '',
    provider_url TEXT NOT NULL DEFAULT '',
    html TEXT NOT NULL DEFAULT '',
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    embed_url TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    published_at BIGINT,
    image_remote_url TEXT NOT NULL DEFAULT '',
    image_path TEXT NOT NULL DEFAULT '',
    image_width INTEGER NOT NULL DEFAULT 0,
    image_height INTEGER NOT NULL DEFAULT 0,
    blurhash TEXT,
    fetched_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX preview_cards_due ON preview_cards (next_attempt_at) WHERE state = 'pending';

-- The card a status shows (the first link of its text).
CREATE TABLE status_cards (
    status_id BIGINT PRIMARY KEY,
    card_id BIGINT NOT NULL
);
CREATE INDEX status_cards_card ON status_cards (card_id);
