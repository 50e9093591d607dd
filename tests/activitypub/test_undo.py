"""Undo names exactly the activity it takes back, both ways, against a fake peer that records
what we POST (GoToSocial and others find what to undo by the embedded object's id).

Outgoing: a local user acts through the Mastodon API; the Undo's object carries the id,
actor, type and object of the activity we sent before, byte for byte, and every new Follow,
Like, Announce or Block has an id of its own (peers, our intake included, drop an id they
have seen). Incoming: a peer's Undo whose object is only the id (a bare string) finds the
follow, follow request, favourite, reblog or block that id made, for that actor only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from federation.conftest import Instance, eventually, free_port
from remote_peer import FakePeer, start_peer

from fedinode.services import oauth
from storage.models import Account, Status
from storage.statuses import NewStatus

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


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


class App:
    """A Mastodon app of one local user on ``home``: plain HTTP with a bearer token."""

    def __init__(self, home: Instance, account: Account, token: str) -> None:
        self.home, self.account, self.token = home, account, token

    async def post(self, path: str) -> Any:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"http://{self.home.domain}{path}",
                headers={"Authorization": f"Bearer {self.token}"},
            ) as resp:
                body = await resp.json()
                assert resp.status == 200, (path, resp.status, body)
                return body


async def _app(home: Instance, username: str, *, locked: bool = False) -> App:
    account = await home.user(username, locked=locked)
    client, _ = await oauth.register_app(
        home.store,
        name="tests",
        redirect_uris=[oauth.OOB],
        scopes=["read", "write", "follow"],
        website=None,
    )
    user = await home.store.users.by_account(account.id)
    assert user is not None
    token, _ = await oauth.issue_token(home.store, client, user.id, ["read", "write", "follow"])
    return App(home, account, token)


async def _remote(home: Instance, peer: FakePeer, name: str) -> Account:
    account = await home.fed.resolver.actor(peer.actor_uri(name))
    assert account is not None
    return account


async def _remote_status(home: Instance, author: Account, n: int = 1) -> Status:
    return await home.store.statuses.create(
        NewStatus(
            account_id=author.id,
            local=False,
            uri=f"{author.uri}/statuses/{n}",
            content="<p>hello</p>",
            visibility="public",
        )
    )


async def _received(peer: FakePeer, type_: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` activities of ``type_`` the peer was sent, once they are there."""

    async def probe() -> list[dict[str, Any]]:
        found = [a for a in peer.received if a.get("type") == type_]
        return found if len(found) >= count else []

    return (await eventually(probe, what=f"{count} {type_} at the peer"))[:count]


def _names_exactly(undo: dict[str, Any], original: dict[str, Any]) -> None:
    """The Undo embeds the original: same id (byte for byte), actor, type and object."""
    inner = undo["object"]
    assert isinstance(inner, dict), undo
    for key in ("id", "actor", "type", "object"):
        assert inner[key] == original[key], (key, inner, original)
    assert undo["actor"] == original["actor"]
    assert undo["id"] != original["id"]


async def _inbox(
    home: Instance, peer: FakePeer, activity: dict[str, Any], signer: str = "gina"
) -> None:
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


# -- outgoing -----------------------------------------------------------------------------


async def test_unfollow_names_the_follow_we_sent(home: Instance, peer: FakePeer) -> None:
    alice = await _app(home, "alice")
    gina = await _remote(home, peer, "gina")
    # Followed, accepted by the peer (object: the bare Follow id), then unfollowed.
    await alice.post(f"/api/v1/accounts/{gina.id}/follow")
    [first] = await _received(peer, "Follow", 1)
    accept = {
        "id": f"{gina.uri}#accepts/1",
        "type": "Accept",
        "actor": gina.uri,
        "object": first["id"],
    }
    await _inbox(home, peer, accept)

    async def accepted() -> bool:
        return await home.store.relationships.get_follow(alice.account.id, gina.id) is not None

    await eventually(accepted, what="the Accept applied")
    await alice.post(f"/api/v1/accounts/{gina.id}/unfollow")
    [undo1] = await _received(peer, "Undo", 1)
    _names_exactly(undo1, first)

    # Followed again (a new Follow, a new id) and withdrawn before any Accept: the Undo
    # names the pending Follow.
    await alice.post(f"/api/v1/accounts/{gina.id}/follow")
    second = (await _received(peer, "Follow", 2))[1]
    assert second["id"] != first["id"]
    await alice.post(f"/api/v1/accounts/{gina.id}/unfollow")
    undo2 = (await _received(peer, "Undo", 2))[1]
    _names_exactly(undo2, second)


async def test_unfavourite_names_the_like_we_sent(home: Instance, peer: FakePeer) -> None:
    alice = await _app(home, "alice")
    status = await _remote_status(home, await _remote(home, peer, "gina"))
    for round_ in (1, 2):
        await alice.post(f"/api/v1/statuses/{status.id}/favourite")
        like = (await _received(peer, "Like", round_))[-1]
        await alice.post(f"/api/v1/statuses/{status.id}/unfavourite")
        undo = (await _received(peer, "Undo", round_))[-1]
        _names_exactly(undo, like)
        assert like["object"] == status.uri
    likes = await _received(peer, "Like", 2)
    undos = await _received(peer, "Undo", 2)
    # A Like after an unlike is a new activity: a peer that has seen the first id drops it.
    assert likes[0]["id"] != likes[1]["id"]
    assert undos[0]["id"] != undos[1]["id"]


async def test_unreblog_names_the_announce_we_sent(home: Instance, peer: FakePeer) -> None:
    alice = await _app(home, "alice")
    status = await _remote_status(home, await _remote(home, peer, "gina"))
    for round_ in (1, 2):
        await alice.post(f"/api/v1/statuses/{status.id}/reblog")
        announce = (await _received(peer, "Announce", round_))[-1]
        await alice.post(f"/api/v1/statuses/{status.id}/unreblog")
        undo = (await _received(peer, "Undo", round_))[-1]
        _names_exactly(undo, announce)
        assert announce["object"] == status.uri
    announces = await _received(peer, "Announce", 2)
    assert announces[0]["id"] != announces[1]["id"]


async def test_unblock_names_the_block_we_sent(home: Instance, peer: FakePeer) -> None:
    alice = await _app(home, "alice")
    gina = await _remote(home, peer, "gina")
    for round_ in (1, 2):
        await alice.post(f"/api/v1/accounts/{gina.id}/block")
        block = (await _received(peer, "Block", round_))[-1]
        await alice.post(f"/api/v1/accounts/{gina.id}/unblock")
        undo = (await _received(peer, "Undo", round_))[-1]
        _names_exactly(undo, block)
        assert block["object"] == gina.uri
    blocks = await _received(peer, "Block", 2)
    assert blocks[0]["id"] != blocks[1]["id"]


# -- incoming -----------------------------------------------------------------------------


def _follow(peer: FakePeer, target: Account, n: int, actor: str = "gina") -> dict[str, Any]:
    uri = peer.actor_uri(actor)
    return {
        "id": f"http://{peer.domain}/{actor}/follows/{n}",
        "type": "Follow",
        "actor": uri,
        "object": target.uri,
    }


def _undo(peer: FakePeer, activity_id: str, actor: str = "gina") -> dict[str, Any]:
    uri = peer.actor_uri(actor)
    # Undo ids differ per actor: the intake drops an id it has seen.
    tail = "/".join(activity_id.rsplit("/", 2)[-2:])
    return {
        "id": f"http://{peer.domain}/{actor}/undos/{tail}",
        "type": "Undo",
        "actor": uri,
        "object": activity_id,
    }


async def test_accept_and_reject_name_the_peers_follow(home: Instance, peer: FakePeer) -> None:
    alice = await _app(home, "alice", locked=True)
    await _remote(home, peer, "gina")
    await _remote(home, peer, "eve")
    follow = _follow(peer, alice.account, 1)
    await _inbox(home, peer, follow)
    await _drained(home)
    gina = await _remote(home, peer, "gina")
    await alice.post(f"/api/v1/follow_requests/{gina.id}/authorize")
    [accept] = await _received(peer, "Accept", 1)
    assert accept["object"]["id"] == follow["id"]
    assert accept["object"]["actor"] == gina.uri and accept["object"]["object"] == alice.account.uri

    eve = await _remote(home, peer, "eve")
    refused = _follow(peer, alice.account, 2, actor="eve")
    await _inbox(home, peer, refused, signer="eve")
    await _drained(home)
    await alice.post(f"/api/v1/follow_requests/{eve.id}/reject")
    [reject] = await _received(peer, "Reject", 1)
    assert reject["object"]["id"] == refused["id"]


async def test_undo_by_bare_id_removes_a_follow(home: Instance, peer: FakePeer) -> None:
    alice = await _app(home, "alice")
    follow = _follow(peer, alice.account, 1)
    await _inbox(home, peer, follow)
    gina = await _remote(home, peer, "gina")
    rel = home.store.relationships

    async def following() -> bool:
        return await rel.get_follow(gina.id, alice.account.id) is not None

    await eventually(following, what="the follow")
    [accept] = await _received(peer, "Accept", 1)
    assert accept["object"]["id"] == follow["id"]

    # Another actor of the same host cannot undo gina's follow by naming its id.
    await _inbox(home, peer, _undo(peer, follow["id"], actor="eve"), signer="eve")
    await _drained(home)
    assert await following()

    await _inbox(home, peer, _undo(peer, follow["id"]))
    await _drained(home)
    assert not await following()


async def test_undo_by_bare_id_of_a_repeated_follow(home: Instance, peer: FakePeer) -> None:
    """A peer that follows again under a new id undoes by the new id."""
    alice = await _app(home, "alice")
    first = _follow(peer, alice.account, 1)
    await _inbox(home, peer, first)
    await _drained(home)
    again = _follow(peer, alice.account, 2)
    await _inbox(home, peer, again)
    await _drained(home)
    accepts = await _received(peer, "Accept", 2)
    # Each follow got its own Accept (deliveries to one inbox may arrive in either order).
    assert sorted(a["object"]["id"] for a in accepts) == sorted([first["id"], again["id"]])
    await _inbox(home, peer, _undo(peer, again["id"]))
    await _drained(home)
    gina = await _remote(home, peer, "gina")
    assert await home.store.relationships.get_follow(gina.id, alice.account.id) is None


async def test_undo_by_bare_id_withdraws_a_follow_request(home: Instance, peer: FakePeer) -> None:
    alice = await _app(home, "alice", locked=True)
    follow = _follow(peer, alice.account, 1)
    await _inbox(home, peer, follow)
    await _drained(home)
    gina = await _remote(home, peer, "gina")
    assert await home.store.relationships.get_request(gina.id, alice.account.id) is not None
    await _inbox(home, peer, _undo(peer, follow["id"]))
    await _drained(home)
    assert await home.store.relationships.get_request(gina.id, alice.account.id) is None


async def test_undo_by_bare_id_removes_a_like(home: Instance, peer: FakePeer) -> None:
    alice = await _app(home, "alice")
    status = await home.post(alice.account, "like me")
    gina_uri = peer.actor_uri("gina")
    like = {
        "id": f"http://{peer.domain}/gina/likes/1",
        "type": "Like",
        "actor": gina_uri,
        "object": status.uri,
    }
    await _inbox(home, peer, like)
    await _drained(home)
    gina = await _remote(home, peer, "gina")
    marked = home.store.interactions.marked
    assert await marked("favourites", gina.id, [status.id]) == {status.id}
    await _inbox(home, peer, _undo(peer, like["id"], actor="eve"), signer="eve")
    await _drained(home)
    assert await marked("favourites", gina.id, [status.id]) == {status.id}
    await _inbox(home, peer, _undo(peer, like["id"]))
    await _drained(home)
    assert await marked("favourites", gina.id, [status.id]) == set()
    assert (await home.store.statuses.get(status.id)).favourites_count == 0  # type: ignore[union-attr]


async def test_undo_by_bare_id_removes_a_reblog(home: Instance, peer: FakePeer) -> None:
    alice = await _app(home, "alice")
    status = await home.post(alice.account, "boost me")
    gina_uri = peer.actor_uri("gina")
    announce = {
        "id": f"http://{peer.domain}/gina/announces/1",
        "type": "Announce",
        "actor": gina_uri,
        "object": status.uri,
        "to": [PUBLIC],
    }
    await _inbox(home, peer, announce)
    await _drained(home)
    gina = await _remote(home, peer, "gina")
    assert await home.store.statuses.reblog_by(gina.id, status.id) is not None
    await _inbox(home, peer, _undo(peer, announce["id"]))
    await _drained(home)
    assert await home.store.statuses.reblog_by(gina.id, status.id) is None


async def test_undo_by_bare_id_removes_a_block(home: Instance, peer: FakePeer) -> None:
    alice = await _app(home, "alice")
    gina_uri = peer.actor_uri("gina")
    block = {
        "id": f"http://{peer.domain}/gina/blocks/1",
        "type": "Block",
        "actor": gina_uri,
        "object": alice.account.uri,
    }
    await _inbox(home, peer, block)
    await _drained(home)
    gina = await _remote(home, peer, "gina")
    rel = home.store.relationships
    assert await rel.is_blocked_either_way(gina.id, alice.account.id)
    await _inbox(home, peer, _undo(peer, block["id"]))
    await _drained(home)
    assert not await rel.is_blocked_either_way(gina.id, alice.account.id)
