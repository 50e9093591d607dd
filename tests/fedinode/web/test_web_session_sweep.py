"""Expired web sessions and e-mail tokens are deleted by a periodic job that one process of
the fleet runs once per period, not only when their user logs in again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from api_helpers import PASSWORD, Api

from activitypub.urls import Urls
from fedinode.config import Config
from fedinode.services.registrations import CONFIRM, RESET
from fedinode.services.users import create_local_user
from fedinode.web import sessions
from storage.store import Store

Site = Callable[..., Awaitable[Api]]
HOUR_MS = 3_600_000


async def _rows(store: Store, table: str) -> set[str]:
    return {str(r["token_hash"]) for r in await store.db.fetch(f"SELECT token_hash FROM {table}")}


async def _until(condition: Callable[[], Awaitable[bool]], seconds: float = 15.0) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_expired_sessions_and_tokens_are_swept_once_per_period(
    store: Store, config: Config, site: Site
) -> None:
    # Rows written before the server starts, as another process (or an older run) left them.
    user, _ = await create_local_user(
        store, Urls(config.base_url), username="alice", email="alice@example.org", password=PASSWORD
    )
    await store.web_sessions.create(user.id, "expired" * 6, ttl_ms=-HOUR_MS)
    live = await store.web_sessions.create(user.id, "live" * 11, ttl_ms=sessions.TTL_MS)
    await store.user_tokens.create(user.id, RESET, "old-reset" * 4, ttl_ms=-1)
    await store.user_tokens.create(user.id, CONFIRM, "new-confirm" * 4, ttl_ms=HOUR_MS)
    sessions_before = await _rows(store, "web_sessions")
    tokens_before = await _rows(store, "user_tokens")
    assert len(sessions_before) == 2 and len(tokens_before) == 2

    api = await site()

    async def swept() -> bool:  # the sessions first, then the tokens: wait for both
        return len(await _rows(store, "web_sessions")) == 1 == len(await _rows(store, "user_tokens"))

    assert await _until(swept), await _rows(store, "web_sessions")
    (kept,) = await store.web_sessions.for_user(user.id)
    assert kept.id == live.id
    assert await api.store.web_sessions.by_token("live" * 11) is not None
    assert len(await _rows(store, "user_tokens")) == 1
    assert await store.user_tokens.peek("new-confirm" * 4, CONFIRM) == user.id
    lease = await store.jobs.get(sessions.SWEEP_JOB)
    assert lease is not None and lease.runs == 1
    assert lease.due_at - lease.started_at == int(sessions.SWEEP_EVERY_S * 1000)

    # A second server on the same database within the period leaves the job alone: a
    # session that expires now stays until the next period.
    await store.web_sessions.create(user.id, "later" * 9, ttl_ms=-1)
    await site()
    await asyncio.sleep(1.0)
    assert len(await _rows(store, "web_sessions")) == 2
    lease = await store.jobs.get(sessions.SWEEP_JOB)
    assert lease is not None and lease.runs == 1

    # When the period is over, the next process to look claims the job and deletes it.
    assert await store.jobs.claim(
        sessions.SWEEP_JOB, "another", every_ms=HOUR_MS, hold_ms=HOUR_MS, now=lease.due_at
    )
    assert await sessions.sweep_expired(store) == (1, 0)
    assert await store.web_sessions.by_token("later" * 9) is None
    assert len(await _rows(store, "web_sessions")) == 1
