"""The activity ids kept with follows, follow requests, blocks and favourites: what an Undo
names, and how an Undo that names only the id finds the row (migration 0009)."""

from __future__ import annotations

from factories import local_account, post, remote_account

from storage.accounts import NewAccount
from storage.migrate import migrate
from storage.models import Account
from storage.store import Store


async def _local_account_alone(store: Store, name: str) -> Account:
    """A local account with no user row: the users table of an older schema lacks columns
    the current code writes, and 0009 only looks at accounts."""
    uri = f"http://local.test/users/{name}"
    return await store.accounts.create(
        NewAccount(username=name, domain="", uri=uri, inbox_url=f"{uri}/inbox")
    )


async def test_follow_and_request_keep_their_activity_id(store: Store) -> None:
    alice = await local_account(store, "alice")
    mallory = await remote_account(store, "mallory")
    eve = await remote_account(store, "eve")
    rel = store.relationships

    await rel.request(alice.id, mallory.id, uri="https://local.test/a/follow-1")
    found = await rel.request_by_uri("https://local.test/a/follow-1", target_id=mallory.id)
    assert found is not None and found.account_id == alice.id
    assert await rel.request_by_uri("https://local.test/a/follow-1", target_id=eve.id) is None
    # The Accept moves the request into a follow with the same id.
    await rel.follow(alice.id, mallory.id, uri=found.uri)
    assert await rel.get_request(alice.id, mallory.id) is None
    follow = await rel.follow_by_uri("https://local.test/a/follow-1", account_id=alice.id)
    assert follow is not None and follow.target_account_id == mallory.id
    # Changing the follow's options keeps its id.
    await rel.follow(alice.id, mallory.id, show_reblogs=False)
    assert (await rel.get_follow(alice.id, mallory.id)).uri == "https://local.test/a/follow-1"  # type: ignore[union-attr]
    # The unfollow hands the id back (the Undo names it).
    removed = await rel.unfollow(alice.id, mallory.id)
    assert removed is not None and removed.uri == "https://local.test/a/follow-1"
    assert await rel.follow_by_uri("https://local.test/a/follow-1") is None

    # A peer's Follow, repeated under a new id: the newest id is the one kept.
    await rel.follow(eve.id, alice.id, uri="https://remote.test/f/1")
    await rel.set_follow_uri(eve.id, alice.id, "https://remote.test/f/2")
    assert await rel.follow_by_uri("https://remote.test/f/1") is None
    assert (await rel.follow_by_uri("https://remote.test/f/2", account_id=eve.id)) is not None
    # Another actor cannot be found under a peer's id.
    assert await rel.follow_by_uri("https://remote.test/f/2", account_id=mallory.id) is None


async def test_block_keeps_its_activity_id(store: Store) -> None:
    alice = await local_account(store, "alice")
    mallory = await remote_account(store, "mallory")
    rel = store.relationships
    await rel.block(mallory.id, alice.id, uri="https://remote.test/b/1")
    block = await rel.block_by_uri("https://remote.test/b/1", account_id=mallory.id)
    assert block is not None and block.target_account_id == alice.id
    assert await rel.block_by_uri("https://remote.test/b/1", account_id=alice.id) is None
    got = await rel.get_block(mallory.id, alice.id)
    assert got is not None and got.uri == "https://remote.test/b/1"
    # Blocked again under a new id: the newest is kept.
    await rel.block(mallory.id, alice.id, uri="https://remote.test/b/2")
    assert await rel.block_by_uri("https://remote.test/b/1") is None
    removed = await rel.unblock(mallory.id, alice.id)
    assert removed is not None and removed.uri == "https://remote.test/b/2"
    assert await rel.get_block(mallory.id, alice.id) is None


async def test_favourite_keeps_its_activity_id(store: Store) -> None:
    alice = await local_account(store, "alice")
    mallory = await remote_account(store, "mallory")
    status = await post(store, alice, "like me")
    fav = store.interactions
    assert await fav.favourite(mallory.id, status.id, uri="https://remote.test/l/1")
    found = await fav.favourite_by_uri("https://remote.test/l/1", account_id=mallory.id)
    assert found is not None and (found.account_id, found.status_id) == (mallory.id, status.id)
    assert await fav.favourite_by_uri("https://remote.test/l/1", account_id=alice.id) is None
    # A second Like of the same status is no new favourite; its id replaces the first.
    assert not await fav.favourite(mallory.id, status.id, uri="https://remote.test/l/2")
    assert (await fav.get_favourite(mallory.id, status.id)).uri == "https://remote.test/l/1"  # type: ignore[union-attr]
    await fav.set_favourite_uri(mallory.id, status.id, "https://remote.test/l/2")
    assert await fav.favourite_by_uri("https://remote.test/l/1") is None
    removed = await fav.unfavourite(mallory.id, status.id)
    assert removed is not None and removed.uri == "https://remote.test/l/2"
    assert await fav.unfavourite(mallory.id, status.id) is None
    assert (await store.statuses.get(status.id)).favourites_count == 0  # type: ignore[union-attr]


async def test_migration_back_fills_the_ids_the_old_code_sent(database_url: str) -> None:
    """Rows made before 0009 without an id get the one the old code put in its Undo; rows
    with an id, and rows of remote accounts, are left as they were."""
    store = await Store.open(database_url, run_migrations=False)
    try:
        # The schema of today but for 0009 (so that today's code can write the old rows):
        # every migration but 0009 applied, then 0009 alone.
        await migrate(store.db, up_to=8)
        await store.db.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (9, 'skipped', 0)"
        )
        await migrate(store.db)
        await store.db.execute("DELETE FROM schema_version WHERE version = 9")
        alice = await _local_account_alone(store, "alice")
        mallory = await remote_account(store, "mallory")
        bob = await _local_account_alone(store, "bob")
        eve = await remote_account(store, "eve")
        theirs = await post(store, mallory, "theirs")
        ours = await post(store, alice, "ours")
        await store.relationships.follow(alice.id, mallory.id)
        await store.relationships.request(bob.id, mallory.id)
        await store.relationships.follow(mallory.id, bob.id, uri="https://remote.test/f/9")
        await store.relationships.block(bob.id, eve.id, uri="https://local.test/kept")
        await store.relationships.block(alice.id, eve.id)
        await store.interactions.favourite(alice.id, theirs.id)
        await store.interactions.favourite(mallory.id, ours.id)

        assert await migrate(store.db) == ["0009_activity_ids.sql"]

        rel = store.relationships
        follow = await rel.get_follow(alice.id, mallory.id)
        assert follow is not None and follow.uri == f"{alice.uri}#follows/{mallory.id}"
        request = await rel.get_request(bob.id, mallory.id)
        assert request is not None and request.uri == f"{bob.uri}#follows/{mallory.id}"
        assert (await rel.get_follow(mallory.id, bob.id)).uri == "https://remote.test/f/9"  # type: ignore[union-attr]
        assert (await rel.get_block(bob.id, eve.id)).uri == "https://local.test/kept"  # type: ignore[union-attr]
        block = await rel.get_block(alice.id, eve.id)
        assert block is not None and block.uri == f"{alice.uri}#blocks/{eve.id}"
        like = await store.interactions.get_favourite(alice.id, theirs.id)
        assert like is not None and like.uri == f"{alice.uri}#likes/{theirs.id}"
        remote_like = await store.interactions.get_favourite(mallory.id, ours.id)
        assert remote_like is not None and remote_like.uri is None
        # The back-filled ids are found by an Undo that names only them.
        assert await store.interactions.favourite_by_uri(like.uri, account_id=alice.id)
        assert await rel.block_by_uri(block.uri, account_id=alice.id)
    finally:
        await store.close()
