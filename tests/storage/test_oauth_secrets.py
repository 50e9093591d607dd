"""OAuth client secrets kept only as digests (migration 0012 hashes the old plain ones), and
the password parts of users: set (signing out other tokens), rehash, lookup by username."""

from __future__ import annotations

import hashlib

import pytest
from factories import local_account, remote_account

from storage.errors import NotFound
from storage.migrate import migrate
from storage.models import User
from storage.store import Store

OOB = "urn:ietf:wg:oauth:2.0:oob"


async def _user(store: Store, username: str) -> User:
    account = await local_account(store, username)
    user = await store.users.by_account(account.id)
    assert user is not None
    return user


async def test_a_client_secret_is_stored_as_a_digest_and_matched(store: Store) -> None:
    app = await store.oauth.create_app(
        name="t", website=None, redirect_uris=OOB, scopes="read", client_id="cid",
        client_secret="the-secret",
    )  # fmt: skip
    stored = await store.db.fetchval("SELECT client_secret_hash FROM oauth_apps")
    assert stored != "the-secret" and "the-secret" not in str(stored)
    assert stored == hashlib.sha256(b"the-secret").hexdigest() == app.client_secret_hash
    found = await store.oauth.app_by_credentials("cid", "the-secret")
    assert found is not None and found.id == app.id
    assert await store.oauth.app_by_credentials("cid", "the-secreT") is None
    assert await store.oauth.app_by_credentials("cid", "") is None
    assert await store.oauth.app_by_credentials("other", "the-secret") is None
    # The stored digest does not work as a secret either.
    assert await store.oauth.app_by_credentials("cid", str(stored)) is None


async def test_migration_hashes_the_secrets_stored_in_plain_text(database_url: str) -> None:
    store = await Store.open(database_url, run_migrations=False)
    try:
        await migrate(store.db, up_to=11)
        for n in (1, 2):
            await store.db.execute(
                "INSERT INTO oauth_apps (id, name, redirect_uris, scopes, client_id,"
                " client_secret, created_at) VALUES ($1, $2, $3, 'read', $4, $5, 0)",
                n, f"app {n}", OOB, f"cid-{n}", f"plain-secret-{n}",
            )  # fmt: skip

        assert "0012_client_secret_hash.sql" in await migrate(store.db)

        rows = await store.db.fetch("SELECT client_secret_hash FROM oauth_apps ORDER BY id")
        assert [r["client_secret_hash"] for r in rows] == [
            hashlib.sha256(f"plain-secret-{n}".encode()).hexdigest() for n in (1, 2)
        ]
        # The apps keep working with the secret they were given.
        found = await store.oauth.app_by_credentials("cid-2", "plain-secret-2")
        assert found is not None and found.name == "app 2"
        assert await store.oauth.app_by_credentials("cid-2", "plain-secret-1") is None
        assert await migrate(store.db) == []  # applied once
    finally:
        await store.close()


async def test_set_password_revokes_tokens_but_the_kept_one(store: Store) -> None:
    alice, bob = await _user(store, "alice"), await _user(store, "bob")
    kept = await store.oauth.create_token("alice-1", app_id=None, user_id=alice.id, scopes="read")
    await store.oauth.create_token("alice-2", app_id=None, user_id=alice.id, scopes="read")
    await store.oauth.create_token("bob-1", app_id=None, user_id=bob.id, scopes="read")

    assert await store.users.set_password(alice.id, "new-hash", keep_token_id=kept.id) == 1
    assert (await store.users.get(alice.id)).password_hash == "new-hash"  # type: ignore[union-attr]
    assert await store.oauth.token("alice-1") is not None
    assert await store.oauth.token("alice-2") is None
    assert await store.oauth.token("bob-1") is not None  # another user's stay

    # Without a token to keep (an admin reset), every one goes.
    assert await store.users.set_password(alice.id, "newer-hash") == 1
    assert await store.oauth.token("alice-1") is None
    with pytest.raises(NotFound):
        await store.users.set_password(999_999, "x")


async def test_rehash_replaces_only_the_hash_it_read(store: Store) -> None:
    alice = await _user(store, "alice")  # password_hash "x"
    assert await store.users.rehash_password(alice.id, "x", "x-at-new-cost")
    # A password changed between the login's read and its rehash is not overwritten.
    await store.users.set_password(alice.id, "changed")
    assert not await store.users.rehash_password(alice.id, "x-at-new-cost", "stale")
    assert (await store.users.get(alice.id)).password_hash == "changed"  # type: ignore[union-attr]


async def test_by_username_finds_local_users_only(store: Store) -> None:
    alice = await _user(store, "alice")
    await remote_account(store, "bob")
    found = await store.users.by_username("ALICE")
    assert found is not None and found.id == alice.id
    assert await store.users.by_username("bob") is None
    assert await store.users.by_username("alice@local.test") is None  # not an email lookup
