"""Inbox forwarding of replies to our statuses, and the LD signatures on what we send.

home (a real instance) has alice, followed by fran on peer F. carol on peer C replies to
alice's post; home forwards the reply to F as Mastodon does, HTTP-signed by alice, with
carol's own signature intact.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from federation.conftest import Instance, eventually, free_port
from remote_peer import FakePeer, keypair, start_peer

from activitypub import ldsignatures
from activitypub.keys import load_private, load_public
from activitypub.signatures import parse_signature_header
from storage.models import Account, Status

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
async def peers() -> AsyncIterator[tuple[FakePeer, FakePeer]]:
    c = await start_peer({"carol": 1})
    f = await start_peer({"fran": 2})
    yield c, f
    await c.server.close()
    await f.server.close()


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[Instance]:
    instance = Instance("home", free_port(), f"sqlite:///{tmp_path}/home.sqlite3", tmp_path)
    await instance.start()
    yield instance
    await instance.stop()


async def _alice_followed_by_fran(home: Instance, f: FakePeer) -> Account:
    alice = await home.user("alice")
    fran = await home.fed.resolver.fetch_actor(f.actor_uri("fran"))
    await home.store.relationships.follow(fran.id, alice.id)
    return alice


def _reply(
    c: FakePeer, parent: Status, *, n: int = 1, to: list[str] | None = None
) -> dict[str, Any]:
    carol = c.actor_uri("carol")
    note = {"id": f"{carol}/statuses/{n}", "type": "Note", "attributedTo": carol,
            "inReplyTo": parent.uri, "content": "<p>a reply</p>",
            "to": to if to is not None else [PUBLIC], "cc": [f"{carol}/followers"],
            "published": "2026-01-01T00:00:00Z"}  # fmt: skip
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note['id']}/activity",
            "type": "Create", "actor": carol, "to": note["to"], "cc": note["cc"],
            "object": note}  # fmt: skip


async def _deliver(home: Instance, c: FakePeer, activity: dict[str, Any]) -> int:
    url = f"http://{home.domain}/inbox"
    body, headers = c.signed_post(url, activity, signer="carol")
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers) as response:
            return response.status


def _forwarded(f: FakePeer, activity_id: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
    return [(doc, h) for doc, h in zip(f.received, f.received_headers, strict=True)
            if doc.get("id") == activity_id]  # fmt: skip


async def test_signed_public_reply_to_a_local_status_is_forwarded_to_followers(
    home: Instance, peers: tuple[FakePeer, FakePeer]
) -> None:
    c, f = peers
    alice = await _alice_followed_by_fran(home, f)
    carol = await home.fed.resolver.fetch_actor(c.actor_uri("carol"))
    await home.store.relationships.follow(carol.id, alice.id)  # C is not sent its own reply
    parent = await home.post(alice, "hello thread")
    signed = ldsignatures.sign(_reply(c, parent), c.key_id("carol"),
                               load_private(keypair(1)[0]))  # type: ignore[arg-type]  # fmt: skip
    assert await _deliver(home, c, signed) == 202
    await home.fed.delivery.run_until_idle()
    found = await eventually(
        lambda: _async(_forwarded(f, signed["id"])), what="the forwarded reply at F"
    )
    doc, headers = found[0]
    assert doc == signed  # forwarded unchanged: carol's signature still verifies
    carol_key = load_public(keypair(1)[1])
    assert ldsignatures.verify(doc, carol_key)
    key_id = parse_signature_header(headers["Signature"]).key_id
    assert key_id == alice.public_key_id  # HTTP-signed by the author of the parent
    assert not _forwarded(c, signed["id"])
    assert any(d.get("object", {}).get("id") == parent.uri for d in c.received)  # C follows


async def test_unsigned_or_private_replies_are_not_forwarded(
    home: Instance, peers: tuple[FakePeer, FakePeer]
) -> None:
    c, f = peers
    alice = await _alice_followed_by_fran(home, f)
    parent = await home.post(alice, "hello thread")
    key = load_private(keypair(1)[0])
    unsigned = _reply(c, parent, n=1)
    private = ldsignatures.sign(_reply(c, parent, n=2, to=[alice.uri]), c.key_id("carol"),
                                key)  # type: ignore[arg-type]  # fmt: skip
    assert await _deliver(home, c, unsigned) == 202
    assert await _deliver(home, c, private) == 202
    await eventually(lambda: home.store.statuses.by_uri(private["object"]["id"]), what="stored")
    await home.fed.delivery.run_until_idle()
    assert not _forwarded(f, unsigned["id"]) and not _forwarded(f, private["id"])


async def test_our_public_activities_carry_an_ld_signature(
    home: Instance, peers: tuple[FakePeer, FakePeer]
) -> None:
    _, f = peers
    alice = await _alice_followed_by_fran(home, f)
    public = await home.post(alice, "for everyone")
    private = await home.post(alice, "followers only", visibility="private")
    await home.fed.delivery.run_until_idle()
    creates = {d["object"]["id"]: d for d in f.received if d.get("type") == "Create"}
    signed = creates[public.uri]
    assert signed["signature"]["creator"] == alice.public_key_id
    assert ldsignatures.verify(signed, load_public(alice.public_key_pem))
    assert "signature" not in creates[private.uri]


async def _async(value: Any) -> Any:
    return value
