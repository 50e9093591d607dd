-- The home timeline as an index written on fan-out: one row per (local account, status)
-- that may belong in its home, added when the status is stored (author, local followers,
-- mentioned and tag-following local accounts) and when a follow or a followed tag begins
-- (recent statuses back-filled). It is an index, never the authority: the home query
-- reads through it with the full visibility and follows predicate, so stale rows (after an
-- unfollow, a block, a visibility change) are filtered, never shown.

CREATE TABLE home_feed (
    account_id BIGINT NOT NULL,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, status_id)
) WITHOUT ROWID;
CREATE INDEX home_feed_status ON home_feed (status_id);

INSERT INTO home_feed (account_id, status_id)
SELECT s.account_id, s.id FROM statuses s JOIN accounts a ON a.id = s.account_id WHERE a.domain = ''
UNION
SELECT f.account_id, s.id FROM follows f JOIN accounts a ON a.id = f.account_id
    JOIN statuses s ON s.account_id = f.target_account_id WHERE a.domain = ''
UNION
SELECT m.account_id, m.status_id FROM mentions m JOIN accounts a ON a.id = m.account_id WHERE a.domain = ''
UNION
SELECT ft.account_id, st.status_id FROM followed_tags ft JOIN accounts a ON a.id = ft.account_id
    JOIN status_tags st ON st.tag_id = ft.tag_id WHERE a.domain = '';
