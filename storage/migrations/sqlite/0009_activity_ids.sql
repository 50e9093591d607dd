-- Every follow, follow request, block and favourite keeps the id of the activity that made
-- it (ours when the account is local, the peer's otherwise): an Undo must embed exactly that
-- id (GoToSocial and others match Undo by id) and a peer's Undo may name only the id (a bare
-- URI string). The uri columns existed; lookups by them now have indexes.
--
-- Back-fill for rows made by local accounts before this migration, with the id the code of
-- that time put in the Undo: "<actor uri>#likes/<status id>" and "<actor uri>#blocks/<target
-- id>" were also the ids of the Like and Block it sent (deterministic, so exact). A Follow's
-- own id was random but stored, so follows with no id are the few whose Follow id was never
-- kept: they get "<actor uri>#follows/<target id>", the id the old Undo named. It cannot match
-- a Follow whose id is lost; peers that match an Undo by actor and object (Mastodon) still
-- apply it, and nothing better is known.

UPDATE favourites SET uri = (SELECT a.uri FROM accounts a WHERE a.id = favourites.account_id)
    || '#likes/' || CAST(status_id AS TEXT)
    WHERE uri IS NULL AND account_id IN (SELECT id FROM accounts WHERE domain = '');
UPDATE blocks SET uri = (SELECT a.uri FROM accounts a WHERE a.id = blocks.account_id)
    || '#blocks/' || CAST(target_account_id AS TEXT)
    WHERE uri IS NULL AND account_id IN (SELECT id FROM accounts WHERE domain = '');
UPDATE follows SET uri = (SELECT a.uri FROM accounts a WHERE a.id = follows.account_id)
    || '#follows/' || CAST(target_account_id AS TEXT)
    WHERE uri IS NULL AND account_id IN (SELECT id FROM accounts WHERE domain = '');
UPDATE follow_requests SET uri = (SELECT a.uri FROM accounts a WHERE a.id = follow_requests.account_id)
    || '#follows/' || CAST(target_account_id AS TEXT)
    WHERE uri IS NULL AND account_id IN (SELECT id FROM accounts WHERE domain = '');

CREATE INDEX follows_uri ON follows (uri);
CREATE INDEX follow_requests_uri ON follow_requests (uri);
CREATE INDEX blocks_uri ON blocks (uri);
CREATE INDEX favourites_uri ON favourites (uri);
