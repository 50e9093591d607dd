"""The token lookup tells the same request whether its account has filters: a request of
an account without any loads none without asking again, and never misses one it creates or
one created while a long-lived task (a streaming connection) runs. Both backends."""

from __future__ import annotations

import asyncio

import pytest

import storage.filters
from storage.store import Store
from tests.storage.factories import local_account


async def _token_for(store: Store, username: str) -> tuple[str, int]:
    account = await local_account(store, username)
    user = await store.db.fetchrow("SELECT id FROM users WHERE account_id = $1", account.id)
    assert user is not None
    await store.oauth.create_token(
        f"{username}-token", app_id=None, user_id=user["id"], scopes="read"
    )
    return f"{username}-token", account.id


async def _titles(store: Store, account_id: int) -> list[str]:
    return [f.title for f in await store.filters.all(account_id, active_at=0)]


async def test_a_filter_the_request_creates_is_seen_by_it(store: Store) -> None:
    token, alice = await _token_for(store, "alice")
    assert await store.oauth.bearer(token) is not None
    assert await _titles(store, alice) == []
    await store.filters.create(
        alice, title="spoilers", contexts=["home"], action="warn", expires_at=None
    )
    assert await _titles(store, alice) == ["spoilers"]
    # The next request's token lookup sees it, and so does its filter lookup.
    assert await store.oauth.bearer(token) is not None
    assert await _titles(store, alice) == ["spoilers"]


async def test_another_account_or_a_later_moment_asks_the_database(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, alice = await _token_for(store, "alice")
    bob = (await local_account(store, "bob")).id
    await store.filters.create(
        bob, title="bob's", contexts=["home"], action="hide", expires_at=None
    )
    assert await store.oauth.bearer(token) is not None  # alice has none
    assert await _titles(store, bob) == ["bob's"]

    # A filter created elsewhere (another request) while this task lives on: once the
    # lookup's answer is no longer trusted, the filter is read.
    monkeypatch.setattr(storage.filters, "FILTERLESS_TRUSTED_S", 0.05)
    assert await store.oauth.bearer(token) is not None
    await asyncio.create_task(
        store.filters.create(
            alice, title="later", contexts=["home"], action="warn", expires_at=None
        )
    )
    await asyncio.sleep(0.1)
    assert await _titles(store, alice) == ["later"]


async def test_each_lookup_shows_the_rows_as_they_are_now(store: Store) -> None:
    # The objects built for one lookup are reused by the next only while the rows are the
    # same: a changed account, a disabled user or a revoked token show on the next request.
    token, alice = await _token_for(store, "alice")
    first = await store.oauth.bearer(token)
    again = await store.oauth.bearer(token)
    assert first is not None and again is not None
    assert again[2] is not None and again[2].display_name == first[2].display_name  # type: ignore[union-attr]

    await store.accounts.update(alice, display_name="Alice Renamed")
    renamed = await store.oauth.bearer(token)
    assert renamed is not None and renamed[2] is not None
    assert renamed[2].display_name == "Alice Renamed"

    user_id = renamed[1].id if renamed[1] is not None else 0
    await store.users.update(user_id, disabled=True)
    disabled = await store.oauth.bearer(token)
    assert disabled is not None and disabled[1] is not None and disabled[1].disabled

    await store.oauth.revoke_user_tokens(user_id)
    assert await store.oauth.bearer(token) is None
