from __future__ import annotations

import pytest
from factories import local_account, remote_account

from storage.accounts import NewAccount
from storage.errors import Conflict
from storage.store import Store


async def test_local_user_round_trip(store: Store) -> None:
    alice = await local_account(store, "alice")
    user = await store.users.by_login("ALICE")
    assert user is not None and user.account_id == alice.id
    assert (await store.users.by_login("alice@local.test")) == user
    assert (await store.accounts.by_handle("Alice")) == alice
    assert alice.local and alice.acct == "alice"


async def test_duplicate_username_and_email_conflict(store: Store) -> None:
    await local_account(store, "alice")
    with pytest.raises(Conflict):
        await store.users.create(NewAccount(username="ALICE", domain="", uri="http://x/2"), email="new@x", password_hash="h")
    with pytest.raises(Conflict):
        await store.users.create(NewAccount(username="other", domain="", uri="http://x/3"), email="Alice@local.test", password_hash="h")
    assert await store.users.count() == 1


async def test_remote_upsert_refreshes(store: Store) -> None:
    bob = await remote_account(store, "bob")
    fresh = NewAccount(username="bob", domain="remote.test", uri=bob.uri, display_name="Bob B", fields=[{"name": "a", "value": "b"}])
    updated = await store.accounts.upsert_remote(fresh)
    assert updated.id == bob.id
    assert updated.display_name == "Bob B"
    assert updated.fields == [{"name": "a", "value": "b"}]
    assert updated.fetched_at is not None
    assert (await store.accounts.by_uri(bob.uri)) == updated


async def test_accounts_by_uris_are_the_stored_ones_keyed_by_uri(store: Store) -> None:
    bob = await remote_account(store, "bob")
    carol = await remote_account(store, "carol")
    unknown = "https://remote.test/users/nobody"
    found = await store.accounts.by_uris([carol.uri, unknown, bob.uri, carol.uri])
    assert found == {bob.uri: bob, carol.uri: carol}
    assert await store.accounts.by_uris([]) == {}


async def test_search_and_ids_are_time_ordered(store: Store) -> None:
    a = await local_account(store, "anna")
    b = await remote_account(store, "annabel", "far.test")
    assert b.id > a.id
    found = await store.accounts.search("anna")
    assert [x.username for x in found] == ["anna", "annabel"]  # local first
    assert await store.accounts.search("zzz") == []


async def test_data_survives_reopen(database_url: str) -> None:
    s1 = await Store.open(database_url)
    try:
        await local_account(s1, "keeper")
    finally:
        await s1.close()
    s2 = await Store.open(database_url)
    try:
        assert (await s2.accounts.by_handle("keeper")) is not None
    finally:
        await s2.close()


async def test_migrations_are_idempotent(store: Store) -> None:
    from storage.migrate import migrate

    assert await migrate(store.db) == []
    versions = await store.db.fetch("SELECT version FROM schema_version ORDER BY version")
    assert versions[0]["version"] == 1


async def test_a_credential_is_the_user_its_account_and_its_waiting_requests(
    store: Store,
) -> None:
    alice = await local_account(store, "alice")
    user = await store.users.by_account(alice.id)
    assert user is not None
    found = await store.users.credential(user.id, requests_up_to=2)
    assert found is not None
    assert (found.user, found.account, found.follow_requests) == (user, alice, 0)
    for name in ("bob", "carol", "dave"):
        await store.relationships.request((await remote_account(store, name)).id, alice.id)
    other = await local_account(store, "erin")
    await store.relationships.request(alice.id, other.id)  # alice's own request is not hers to answer
    found = await store.users.credential(user.id, requests_up_to=2)
    assert found is not None and found.follow_requests == 2  # counted no further than asked
    found = await store.users.credential(user.id, requests_up_to=40)
    assert found is not None and found.follow_requests == 3
    assert await store.users.credential(user.id + 1_000_000, requests_up_to=40) is None
