"""A user's domain block as the peer sees it: its followers there get a Reject and are
removed, a follow request from there is rejected, and a new Follow from there is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from federation.conftest import Instance, eventually, free_port
from remote_peer import FakePeer, start_peer

from fedinode.services import oauth
from storage.models import Account


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    p = await start_peer({"gina": 0, "eve": 1})
    yield p
    await p.server.close()


@pytest.fixture
async def home(tmp_path: Path, database_url: str) -> AsyncIterator[Instance]:
    instance = Instance("home", free_port(), database_url, tmp_path)
    await instance.start()
    yield instance
    await instance.stop()


async def _token(home: Instance, account: Account) -> str:
    client, _ = await oauth.register_app(
        home.store, name="tests", redirect_uris=[oauth.OOB], scopes=["follow"], website=None
    )
    user = await home.store.users.by_account(account.id)
    assert user is not None
    token, _ = await oauth.issue_token(home.store, client, user.id, ["follow"])
    return token


async def _block_domain(home: Instance, token: str, domain: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"http://{home.domain}/api/v1/domain_blocks",
            json={"domain": domain},
            headers={"Authorization": f"Bearer {token}"},
        ) as resp:
            assert resp.status == 200, await resp.text()


async def _remote(home: Instance, peer: FakePeer, name: str) -> Account:
    account = await home.fed.resolver.actor(peer.actor_uri(name))
    assert account is not None
    return account


async def _received(peer: FakePeer, type_: str, count: int) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]]:
        found = [a for a in peer.received if a.get("type") == type_]
        return found if len(found) >= count else []

    return (await eventually(probe, what=f"{count} {type_} at the peer"))[:count]


def _follow(peer: FakePeer, target: Account, actor: str) -> dict[str, Any]:
    return {
        "id": f"http://{peer.domain}/{actor}/follows/1",
        "type": "Follow",
        "actor": peer.actor_uri(actor),
        "object": target.uri,
    }


async def _inbox(home: Instance, peer: FakePeer, activity: dict[str, Any], signer: str) -> None:
    url = f"http://{home.domain}/inbox"
    body, headers = peer.signed_post(url, activity, signer=signer)
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers) as resp:
            assert resp.status == 202, await resp.text()


async def _drained(home: Instance) -> None:
    async def idle() -> bool:
        return await home.store.queues.inbox_pending() == 0

    await eventually(idle, what="inbox drained")
    await home.fed.processor.run_until_idle()


async def test_block_removes_followers_and_rejects_requests_there(
    home: Instance, peer: FakePeer
) -> None:
    alice = await home.user("alice")
    gina = await _remote(home, peer, "gina")
    eve = await _remote(home, peer, "eve")
    rel = home.store.relationships
    await rel.follow(gina.id, alice.id, uri=f"http://{peer.domain}/gina/follows/1")
    await rel.request(eve.id, alice.id, uri=f"http://{peer.domain}/eve/follows/1")
    await rel.follow(alice.id, gina.id, uri=f"{alice.uri}#follows/1")  # alice's own: kept
    await _block_domain(home, await _token(home, alice), peer.domain)
    rejects = await _received(peer, "Reject", 2)
    assert {r["object"]["id"] for r in rejects} == {
        f"http://{peer.domain}/gina/follows/1",
        f"http://{peer.domain}/eve/follows/1",
    }
    assert await rel.get_follow(gina.id, alice.id) is None
    assert await rel.get_request(eve.id, alice.id) is None
    assert await rel.get_follow(alice.id, gina.id) is not None


async def test_a_follow_from_a_blocked_domain_is_refused(home: Instance, peer: FakePeer) -> None:
    alice = await home.user("alice")
    await _block_domain(home, await _token(home, alice), peer.domain)
    await _remote(home, peer, "gina")
    follow = _follow(peer, alice, "gina")
    await _inbox(home, peer, follow, "gina")
    await _drained(home)
    [reject] = await _received(peer, "Reject", 1)
    assert reject["object"]["id"] == follow["id"]
    gina = await _remote(home, peer, "gina")
    assert await home.store.relationships.get_follow(gina.id, alice.id) is None
    assert await home.store.notifications.count(alice.id) == 0
