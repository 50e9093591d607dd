"""A hostile peer against our outgoing HTTP: redirects, policy bypass, SSRF, slow answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from activitypub.errors import FetchError, RefusedAddress
from activitypub.fetch import Fetcher, make_client_session
from activitypub.keys import generate_keypair, load_private
from security.rig import (
    FakePeer,
    Hostile,
    Instance,
    as_json,
    drained,
    send,
    start_home,
    start_hostile,
)

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _actor(h: Hostile, name: str) -> dict[str, Any]:
    uri = h.url(f"/users/{name}")
    return {"id": uri, "type": "Person", "preferredUsername": name, "inbox": f"{uri}/inbox"}


def _note(h: Hostile, name: str, n: int) -> dict[str, Any]:
    return {"id": h.url(f"/notes/{n}"), "type": "Note", "attributedTo": h.url(f"/users/{name}"),
            "content": "<p>from the suspended host</p>", "to": [PUBLIC]}  # fmt: skip


@pytest.fixture
async def suspended() -> AsyncIterator[Hostile]:
    """A host the home instance suspends; it serves an actor and a note, and counts hits."""

    def routes(h: Hostile) -> dict[str, Any]:
        async def actor(request: web.Request) -> web.Response:
            return as_json(_actor(h, request.match_info["name"]))

        async def note(request: web.Request) -> web.Response:
            return as_json(_note(h, "bob", int(request.match_info["n"])))

        return {"/users/{name}": actor, "/notes/{n}": note}

    h = await start_hostile(routes)
    yield h
    await h.server.close()


@pytest.fixture
async def bouncer(suspended: Hostile) -> AsyncIterator[Hostile]:
    """An allowed host whose objects redirect to the suspended one."""

    def routes(h: Hostile) -> dict[str, Any]:
        async def bounce(request: web.Request) -> web.Response:
            raise web.HTTPFound(suspended.url(f"/notes/{request.match_info['n']}"))

        return {"/notes/{n}": bounce}

    h = await start_hostile(routes)
    yield h
    await h.server.close()


@pytest.fixture
async def guarded_home(tmp_path: Path, suspended: Hostile) -> AsyncIterator[Instance]:
    home = await start_home(
        tmp_path, {"domain_blocks": [{"domain": suspended.domain, "severity": "suspend"}]}
    )
    yield home
    await home.stop()


async def test_redirect_to_a_suspended_host_is_not_followed(
    guarded_home: Instance, bouncer: Hostile, suspended: Hostile
) -> None:
    with pytest.raises(FetchError):
        await guarded_home.fed.resolver.fetch_json(bouncer.url("/notes/1"))
    assert suspended.hits == []


async def test_announce_relaying_a_suspended_hosts_post_through_a_redirect_is_refused(
    guarded_home: Instance, bouncer: Hostile, suspended: Hostile, peer: FakePeer
) -> None:
    mallory = peer.actor_uri("mallory")
    announce = {"id": f"{mallory}/announces/1", "type": "Announce", "actor": mallory,
                "to": [PUBLIC], "object": bouncer.url("/notes/1")}  # fmt: skip
    assert (await send(guarded_home, peer, announce))[0] == 202
    await drained(guarded_home)
    assert suspended.hits == []
    assert await guarded_home.store.statuses.by_uri(suspended.url("/notes/1")) is None


async def test_announce_of_a_suspended_hosts_post_is_refused(
    guarded_home: Instance, suspended: Hostile, peer: FakePeer
) -> None:
    mallory = peer.actor_uri("mallory")
    announce = {"id": f"{mallory}/announces/2", "type": "Announce", "actor": mallory,
                "to": [PUBLIC], "object": suspended.url("/notes/2")}  # fmt: skip
    assert (await send(guarded_home, peer, announce))[0] == 202
    await drained(guarded_home)
    assert suspended.hits == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://[::1]:9/x",
        "http://[::ffff:127.0.0.1]:9/x",
        "http://[0:0:0:0:0:ffff:7f00:1]:9/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]:9/x",
        "http://0x7f.1:9/x",
        "http://localhost.:9/x",
        "http://LOCALHOST:9/x",
        "http://[::]:9/x",
        "http://10.0.0.1:9/x",
        "http://100.64.0.1:9/x",
    ],
)
async def test_private_destinations_are_refused_for_fetch_and_delivery(url: str) -> None:
    session = make_client_session("http", allow_private=False)
    fetcher = Fetcher(session, scheme="http", allow_private=False, timeout=2.0)
    key = load_private(generate_keypair()[0])
    try:
        with pytest.raises(RefusedAddress):
            await fetcher.get_json(url)
        with pytest.raises(RefusedAddress):
            await fetcher.post_signed(url, b"{}", "http://a.example/k", key)
    finally:
        await session.close()


async def test_slow_peer_is_cut_off_by_the_timeout() -> None:
    def routes(h: Hostile) -> dict[str, Any]:
        async def slow(request: web.Request) -> web.StreamResponse:
            response = web.StreamResponse(headers={"Content-Type": "application/activity+json"})
            await response.prepare(request)
            for _ in range(100):  # a byte a second, forever
                await response.write(b" ")
                await asyncio.sleep(1.0)
            return response

        return {"/slow": slow}

    h = await start_hostile(routes)
    session = make_client_session("http", allow_private=True)
    fetcher = Fetcher(session, scheme="http", allow_private=True, timeout=1.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        with pytest.raises(FetchError):
            await fetcher.get_json(h.url("/slow"))
        assert loop.time() - started < 5
    finally:
        await session.close()
        await h.server.close()
