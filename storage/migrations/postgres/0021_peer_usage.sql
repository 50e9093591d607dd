-- Per-peer limits ([policy.peer_limits]): what each remote host used in a window, counted
-- in the database so that every process serving the instance (serve --workers N, web and
-- worker roles) adds to the same count. ``kind`` is requests (per minute), activities
-- (per UTC day) or media_bytes (per UTC day); ``window_start`` the window's first
-- millisecond. Past windows are pruned.
CREATE TABLE peer_usage (
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (host, kind, window_start)
);
CREATE INDEX peer_usage_window ON peer_usage (window_start);
