"""Bearer lookups answered from a process's cache: used only while the process hears
changes, and dropped at once here and within moments in every other process when a token,
a user, a local account or a filter set changes. Both backends; the "other process" is a
second store opened on the same database (its own connections, or on SQLite its own
datagram socket), as each process of ``serve --workers N`` opens it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from storage import token_cache
from storage.store import Store
from tests.storage.factories import local_account


async def _token_for(store: Store, username: str) -> tuple[str, int, int]:
    account = await local_account(store, username)
    user = await store.db.fetchrow("SELECT id FROM users WHERE account_id = $1", account.id)
    assert user is not None
    raw = f"{username}-token"
    await store.oauth.create_token(raw, app_id=None, user_id=user["id"], scopes="read")
    return raw, int(user["id"]), account.id


@contextlib.asynccontextmanager
async def _following(store: Store) -> AsyncIterator[None]:
    """The store listening for changes, as a serving process does."""
    task = asyncio.create_task(store.oauth.follow_changes())
    cache = token_cache.cache_of(store.db)
    for _ in range(200):
        if cache.live:
            break
        await asyncio.sleep(0.01)
    assert cache.live
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _count_bearer_reads(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    reads: list[str] = []
    original = store.db.fetchrow

    async def counting(sql: str, *args: Any) -> Any:
        if "FROM oauth_tokens t" in sql:
            reads.append(sql)
        return await original(sql, *args)

    monkeypatch.setattr(store.db, "fetchrow", counting)
    return reads


async def _eventually(check: Callable[[], Awaitable[bool]], within: float = 3.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.02)
    return await check()


async def test_a_repeated_lookup_asks_the_database_only_while_changes_are_heard(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, _, _ = await _token_for(store, "alice")
    reads = _count_bearer_reads(store, monkeypatch)
    assert await store.oauth.bearer(raw) is not None
    assert await store.oauth.bearer(raw) is not None
    assert len(reads) == 2  # nobody listening: every lookup reads
    async with _following(store):
        first = await store.oauth.bearer(raw)
        again = await store.oauth.bearer(raw)
        assert first is not None and again is first
        assert len(reads) == 3
    assert await store.oauth.bearer(raw) is not None
    assert len(reads) == 4  # stopped listening: reads again


async def test_a_token_revoked_here_is_refused_at_once(store: Store) -> None:
    raw, _, _ = await _token_for(store, "alice")
    async with _following(store):
        assert await store.oauth.bearer(raw) is not None
        assert await store.oauth.revoke_token(raw)
        assert await store.oauth.bearer(raw) is None
        other, bob_user, _ = await _token_for(store, "bob")
        assert await store.oauth.bearer(other) is not None
        await store.users.set_password(bob_user, "new-hash")  # revokes the user's tokens
        assert await store.oauth.bearer(other) is None


async def test_changes_made_by_another_process_reach_this_ones_cache(
    database_url: str,
) -> None:
    here = await Store.open(database_url)
    there = await Store.open(database_url)
    try:
        raw, user_id, account_id = await _token_for(here, "alice")
        async with _following(here):
            found = await here.oauth.bearer(raw)
            assert found is not None and found[1] is not None and not found[1].disabled

            await there.users.update(user_id, disabled=True)

            async def disabled() -> bool:
                now = await here.oauth.bearer(raw)
                return now is not None and now[1] is not None and now[1].disabled

            assert await _eventually(disabled)

            await there.accounts.update(account_id, suspended=True)

            async def suspended() -> bool:
                now = await here.oauth.bearer(raw)
                return now is not None and now[2] is not None and now[2].suspended

            assert await _eventually(suspended)

            assert await there.oauth.revoke_token(raw)

            async def refused() -> bool:
                return await here.oauth.bearer(raw) is None

            # Well within the cache's own expiry: it is the message that drops it.
            assert token_cache.TTL_S >= 5
            assert await _eventually(refused, within=2.0)
    finally:
        await there.close()
        await here.close()


async def test_a_lookup_overtaken_by_a_change_is_not_kept(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw, _, _ = await _token_for(store, "alice")
    reads = _count_bearer_reads(store, monkeypatch)
    counting = store.db.fetchrow

    async def overtaken(sql: str, *args: Any) -> Any:
        row = await counting(sql, *args)
        if "FROM oauth_tokens t" in sql and len(reads) == 1:
            token_cache.cache_of(store.db).drop_all()  # a change heard meanwhile
        return row

    monkeypatch.setattr(store.db, "fetchrow", overtaken)
    async with _following(store):
        assert await store.oauth.bearer(raw) is not None
        assert await store.oauth.bearer(raw) is not None
        assert await store.oauth.bearer(raw) is not None
    assert len(reads) == 2  # the first answer was not kept; the second was


async def test_a_filter_created_or_deleted_reaches_the_cached_lookup(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.filters

    raw, _, account_id = await _token_for(store, "alice")
    async with _following(store):
        assert await store.oauth.bearer(raw) is not None
        assert storage.filters._known_filterless(account_id)
        made = await store.filters.create(
            account_id, title="spoilers", contexts=["home"], action="warn", expires_at=None
        )
        assert await store.oauth.bearer(raw) is not None
        assert not storage.filters._known_filterless(account_id)
        assert await store.filters.delete(account_id, made.id)
        assert await store.oauth.bearer(raw) is not None
        assert storage.filters._known_filterless(account_id)
