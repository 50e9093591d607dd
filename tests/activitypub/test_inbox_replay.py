"""A peer that sends one activity again (a retry after a lost answer, a crash mid-fan-out)
changes nothing: the inbox drops a repeated activity id, on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from federation.conftest import Instance, eventually, free_port
from remote_peer import FakePeer, start_peer


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    p = await start_peer({"mallory": 0})
    yield p
    await p.server.close()


@pytest.fixture
async def home(database_url: str, tmp_path: Path) -> AsyncIterator[Instance]:
    instance = Instance("home", free_port(), database_url, tmp_path)
    await instance.start()
    await instance.user("alice")
    yield instance
    await instance.stop()


def _create(peer: FakePeer, content: str) -> dict[str, Any]:
    uri = peer.actor_uri("mallory")
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{uri}/statuses/1/activity",
        "type": "Create",
        "actor": uri,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": f"{uri}/statuses/1",
            "type": "Note",
            "attributedTo": uri,
            "content": f"<p>{content}</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "published": "2026-01-01T00:00:00Z",
        },
    }


async def _send(home: Instance, peer: FakePeer, activity: dict[str, Any], key: str) -> int:
    url = f"http://{home.domain}/inbox"
    body, headers = peer.signed_post(url, activity, signer="mallory")
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers={**headers, "Idempotency-Key": key}) as r:
            return r.status


async def test_a_repeated_activity_id_is_dropped(home: Instance, peer: FakePeer) -> None:
    first = _create(peer, "first")
    assert await _send(home, peer, first, '"a/deliveries/1"') == 202
    note = first["object"]["id"]
    stored = await eventually(lambda: home.store.statuses.by_uri(note), what="note")
    await eventually(lambda: _all_done(home), what="processed")
    # The same activity again, after it was processed, and once more with other content
    # under the same id: accepted (the peer must stop retrying) and dropped.
    assert await _send(home, peer, first, '"a/deliveries/1"') == 202
    assert await _send(home, peer, _create(peer, "changed"), '"a/deliveries/2"') == 202
    await home.fed.process_pending(5.0)
    states = await home.store.queues.inbox_by_state()
    assert states == {"done": 1}
    again = await home.store.statuses.by_uri(note)
    assert again is not None and again.id == stored.id and "first" in again.content
    count = await home.store.db.fetchval(
        "SELECT COUNT(*) FROM statuses WHERE account_id = $1", stored.account_id
    )
    assert count == 1


async def _all_done(home: Instance) -> bool:
    return set(await home.store.queues.inbox_by_state()) == {"done"}
