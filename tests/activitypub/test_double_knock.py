"""Sending RFC 9421 with the double-knock: a peer that refuses one spec gets the request
again signed with the other, and the spec it took is what we try first from then on."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest
from remote_peer import FakePeer, keypair, start_peer

from activitypub.fetch import Fetcher, make_client_session
from activitypub.keys import load_private
from activitypub.signatures import CAVAGE, RFC9421

OURS = 7  # key index of "our" instance actor in remote_peer's key cache
ACTIVITY = {"id": "http://127.0.0.1/activities/1", "type": "Create", "actor": "x"}


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    peer = await start_peer({"bob": 0})
    yield peer
    await peer.server.close()


@pytest.fixture
async def fetcher(peer: FakePeer) -> AsyncIterator[Fetcher]:
    private_pem, public_pem = keypair(OURS)
    key_id = "http://127.0.0.1:1/actor#main-key"
    peer.senders[key_id] = ("http://127.0.0.1:1/actor", public_pem)
    key = load_private(private_pem)
    session = make_client_session("http", True, None, "fedinode-test", 5.0)
    fetcher = Fetcher(session, scheme="http", allow_private=True, signer=lambda: (key_id, key))
    yield fetcher
    await session.close()


async def post(fetcher: Fetcher, peer: FakePeer) -> int:
    key_id, key = fetcher.signer()  # type: ignore[misc]
    inbox = f"http://{peer.domain}/users/bob/inbox"
    return (await fetcher.post_signed(inbox, orjson.dumps(ACTIVITY), key_id, key)).status


async def test_peer_refusing_cavage_gets_rfc9421_and_keeps_getting_it(
    peer: FakePeer, fetcher: Fetcher
) -> None:
    peer.accepts = frozenset({RFC9421})
    assert await post(fetcher, peer) == 202
    # The first knock (draft-cavage) was refused; the second, RFC 9421, verified.
    assert peer.knocks == [("POST", CAVAGE, 401), ("POST", RFC9421, 200)]
    assert peer.received == [ACTIVITY]
    assert fetcher.specs.first(peer.domain) == RFC9421
    peer.knocks.clear()
    assert await post(fetcher, peer) == 202
    assert peer.knocks == [("POST", RFC9421, 200)]  # remembered: one knock


async def test_unknown_peers_get_cavage_first(peer: FakePeer, fetcher: Fetcher) -> None:
    assert await post(fetcher, peer) == 202
    assert peer.knocks == [("POST", CAVAGE, 200)]
    assert fetcher.specs.first(peer.domain) == CAVAGE


async def test_peer_known_for_rfc9421_that_refuses_it_falls_back_to_cavage(
    peer: FakePeer, fetcher: Fetcher
) -> None:
    fetcher.specs.remember(peer.domain, RFC9421)  # e.g. it signed to us with RFC 9421
    peer.accepts = frozenset({CAVAGE})
    assert await post(fetcher, peer) == 202
    assert peer.knocks == [("POST", RFC9421, 401), ("POST", CAVAGE, 200)]
    assert fetcher.specs.first(peer.domain) == CAVAGE


async def test_refused_both_ways_answers_the_refusal(peer: FakePeer, fetcher: Fetcher) -> None:
    peer.accepts = frozenset()
    assert await post(fetcher, peer) == 401
    assert peer.knocks == [("POST", CAVAGE, 401), ("POST", RFC9421, 401)]
    assert peer.received == []
    assert fetcher.specs.first(peer.domain) == CAVAGE


async def test_signed_get_double_knocks(peer: FakePeer, fetcher: Fetcher) -> None:
    peer.accepts = frozenset({RFC9421})
    doc = await fetcher.get_json(f"http://{peer.domain}/notes/1")
    assert doc["id"] == f"http://{peer.domain}/notes/1"
    assert peer.knocks == [("GET", CAVAGE, 401), ("GET", RFC9421, 200)]
    peer.knocks.clear()
    await fetcher.get_json(f"http://{peer.domain}/notes/2")
    assert peer.knocks == [("GET", RFC9421, 200)]


async def test_a_tampered_rfc9421_body_is_refused(peer: FakePeer, fetcher: Fetcher) -> None:
    """The fake peer really verifies: the same signed headers with another body fail."""
    from activitypub.signatures import sign_request_rfc9421

    key_id, key = fetcher.signer()  # type: ignore[misc]
    inbox = f"http://{peer.domain}/users/bob/inbox"
    headers = sign_request_rfc9421("POST", inbox, {"Content-Type": "application/activity+json"},
                                   b"{}", key_id, key)  # fmt: skip
    async with fetcher.session.post(inbox, data=b'{"a":1}', headers=headers) as response:
        assert response.status == 401
    async with fetcher.session.post(inbox, data=b"{}", headers=headers) as response:
        assert response.status == 202


async def test_a_first_knock_that_worked_keeps_what_was_learnt_meanwhile(
    peer: FakePeer, fetcher: Fetcher
) -> None:
    """A peer that answers our draft-cavage Follow after sending us its RFC 9421-signed
    Accept (Fedify does, from inside its inbox handler): the 202 must not make us forget."""
    peer.on_knock = lambda: fetcher.specs.remember(peer.domain, RFC9421)
    assert await post(fetcher, peer) == 202
    assert peer.knocks == [("POST", CAVAGE, 200)]
    assert fetcher.specs.first(peer.domain) == RFC9421
