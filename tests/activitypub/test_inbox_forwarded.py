"""Forwarded activities (HTTP signer ≠ actor) on a real instance, with two fake peers.

Server B (bob) forwards a reply written by carol on server C, as a thread's origin does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from federation.conftest import Instance, eventually, free_port
from remote_peer import FakePeer, keypair, start_peer

from activitypub import integrity, ldsignatures
from activitypub.keys import load_private, multikey_of

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
ED_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.fixture
async def peers() -> AsyncIterator[tuple[FakePeer, FakePeer]]:
    b = await start_peer({"bob": 0})
    c = await start_peer({"carol": 1})
    c.multikeys["carol"] = multikey_of(ED_KEY)
    yield b, c
    await b.server.close()
    await c.server.close()


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[Instance]:
    instance = Instance("home", free_port(), f"sqlite:///{tmp_path}/home.sqlite3", tmp_path)
    await instance.start()
    await instance.user("alice")
    yield instance
    await instance.stop()


def _note(c: FakePeer, b: FakePeer, content: str = "<p>a reply from C</p>") -> dict[str, Any]:
    carol = c.actor_uri("carol")
    return {
        "id": f"{carol}/statuses/1",
        "type": "Note",
        "summary": None,
        "inReplyTo": f"{b.actor_uri('bob')}/statuses/404",
        "published": "2026-01-01T00:00:00Z",
        "url": f"http://{c.domain}/@carol/1",
        "attributedTo": carol,
        "to": [PUBLIC],
        "cc": [f"{carol}/followers", b.actor_uri("bob")],
        "sensitive": False,
        "atomUri": f"{carol}/statuses/1",
        "conversation": "tag:c.example,2026-01-01:objectId=1:objectType=Conversation",
        "content": content,
        "contentMap": {"en": content},
        "attachment": [],
        "tag": [{"type": "Mention", "href": b.actor_uri("bob"), "name": "@bob"}],
    }


def _create(c: FakePeer, b: FakePeer, content: str = "<p>a reply from C</p>") -> dict[str, Any]:
    """A Create as Mastodon sends it (its inline extension context included)."""
    note = _note(c, b, content)
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            {
                "ostatus": "http://ostatus.org#",
                "atomUri": "ostatus:atomUri",
                "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
                "conversation": "ostatus:conversation",
                "sensitive": "as:sensitive",
                "toot": "http://joinmastodon.org/ns#",
                "votersCount": "toot:votersCount",
            },
        ],
        "id": f"{note['id']}/activity",
        "type": "Create",
        "actor": note["attributedTo"],
        "published": note["published"],
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    }


def _ld_sign(c: FakePeer, activity: dict[str, Any]) -> dict[str, Any]:
    key = load_private(keypair(c.actors["carol"])[0])
    return ldsignatures.sign(activity, c.key_id("carol"), key)  # type: ignore[arg-type]


async def _forward(home: Instance, b: FakePeer, activity: dict[str, Any]) -> tuple[int, str]:
    """POST ``activity`` to home's shared inbox, HTTP-signed by bob on B."""
    url = f"http://{home.domain}/inbox"
    body, headers = b.signed_post(url, activity, signer="bob")
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers) as response:
            return response.status, await response.text()


async def test_reply_with_a_valid_ld_signature_is_accepted_and_stored(
    home: Instance, peers: tuple[FakePeer, FakePeer]
) -> None:
    b, c = peers
    activity = _ld_sign(c, _create(c, b))
    status, text = await _forward(home, b, activity)
    assert status == 202, text
    stored = await eventually(
        lambda: home.store.statuses.by_uri(activity["object"]["id"]), what="forwarded reply"
    )
    assert "a reply from C" in stored.content
    assert "/users/carol/statuses/1" not in c.hits  # the signature sufficed: no refetch
    assert home.fed.intake.forwarded == {"ld_signature": 1}


async def test_tampered_ld_signed_reply_is_replaced_by_the_origins_version(
    home: Instance, peers: tuple[FakePeer, FakePeer]
) -> None:
    b, c = peers
    c.serve(_note(c, b))  # what carol really wrote
    activity = _ld_sign(c, _create(c, b))
    activity["object"]["content"] = "<p>words carol never wrote</p>"
    status, text = await _forward(home, b, activity)
    assert status == 202, text
    stored = await eventually(
        lambda: home.store.statuses.by_uri(activity["object"]["id"]), what="reply"
    )
    assert "a reply from C" in stored.content and "never wrote" not in stored.content
    assert "/users/carol/statuses/1" in c.hits


async def test_tampered_reply_the_origin_does_not_serve_is_401(
    home: Instance, peers: tuple[FakePeer, FakePeer]
) -> None:
    b, c = peers
    activity = _ld_sign(c, _create(c, b))
    activity["object"]["content"] = "<p>words carol never wrote</p>"
    status, text = await _forward(home, b, activity)
    assert status == 401 and "origin" in text
    assert await home.store.queues.inbox_pending() == 0
    assert await home.store.statuses.by_uri(activity["object"]["id"]) is None


async def test_unsigned_forward_is_fetched_from_the_origin(
    home: Instance, peers: tuple[FakePeer, FakePeer]
) -> None:
    b, c = peers
    c.serve(_note(c, b, "<p>the origin's version</p>"))
    activity = _create(c, b, "<p>the forwarder's version</p>")
    status, text = await _forward(home, b, activity)
    assert status == 202, text
    stored = await eventually(
        lambda: home.store.statuses.by_uri(activity["object"]["id"]), what="reply"
    )
    assert "the origin's version" in stored.content
    assert "/users/carol/statuses/1" in c.hits
    assert home.fed.intake.forwarded == {"origin": 1}


async def test_signature_by_another_actor_of_the_origin_is_not_enough(
    home: Instance, peers: tuple[FakePeer, FakePeer]
) -> None:
    b, c = peers
    c.actors["dave"] = 0
    activity = _create(c, b)
    signed = ldsignatures.sign(
        activity,
        c.key_id("dave"),
        load_private(keypair(0)[0]),  # type: ignore[arg-type]
    )
    status, _ = await _forward(home, b, signed)
    assert status == 401  # dave's valid signature does not speak for carol; C serves nothing
    assert await home.store.queues.inbox_pending() == 0


async def test_reply_with_an_integrity_proof_is_accepted(
    home: Instance, peers: tuple[FakePeer, FakePeer]
) -> None:
    b, c = peers
    activity = _create(c, b)
    activity["@context"] = [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/data-integrity/v1",
    ]
    proven = integrity.sign(activity, c.multikey_id("carol"), ED_KEY)
    status, text = await _forward(home, b, proven)
    assert status == 202, text
    await eventually(lambda: home.store.statuses.by_uri(activity["object"]["id"]), what="reply")
    assert "/users/carol/statuses/1" not in c.hits
    assert home.fed.intake.forwarded == {"integrity_proof": 1}

    tampered = integrity.sign(
        {**activity, "id": activity["id"] + "2"}, c.multikey_id("carol"), ED_KEY
    )
    tampered["object"] = {**activity["object"], "id": activity["object"]["id"] + "2",
                          "content": "<p>forged</p>"}  # fmt: skip
    status, _ = await _forward(home, b, tampered)
    assert status == 401


async def test_forwarded_delete_holds_when_the_origin_says_gone(
    home: Instance, peers: tuple[FakePeer, FakePeer]
) -> None:
    b, c = peers
    activity = _ld_sign(c, _create(c, b))
    assert (await _forward(home, b, activity))[0] == 202
    note_id = activity["object"]["id"]
    stored = await eventually(lambda: home.store.statuses.by_uri(note_id), what="reply")
    carol = c.actor_uri("carol")
    delete = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note_id}#delete",
              "type": "Delete", "actor": carol, "to": [PUBLIC],
              "object": {"id": note_id, "type": "Tombstone"}}  # fmt: skip
    c.serve(_note(c, b))
    assert (await _forward(home, b, delete))[0] == 401  # still served: not deleted
    c.objects.clear()
    c.gone.add("/users/carol/statuses/1")
    assert (await _forward(home, b, delete))[0] == 202

    async def removed() -> bool | None:
        return True if await home.store.statuses.get(stored.id) is None else None

    await eventually(removed, what="deleted reply")


async def test_ld_signature_with_a_rotated_key_refetches_the_key_once(
    home: Instance, peers: tuple[FakePeer, FakePeer]
) -> None:
    b, c = peers
    first = _ld_sign(c, _create(c, b))
    assert (await _forward(home, b, first))[0] == 202  # home now holds carol's key 1
    c.actors["carol"] = 3  # carol rotates her key
    second = _create(c, b)
    second["id"], second["object"]["id"] = second["id"] + "2", second["object"]["id"] + "2"
    status, text = await _forward(home, b, _ld_sign(c, second))
    assert status == 202, text
    assert home.fed.intake.forwarded == {"ld_signature": 2}
