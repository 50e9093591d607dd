from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from activitypub.errors import FetchError, RefusedAddress, TooLarge
from activitypub.fetch import Fetcher, make_client_session
from activitypub.keys import generate_keypair, load_private, load_public
from activitypub.signatures import ResolvedKey, verify_request

KEY_ID = "http://127.0.0.1/actor#main-key"
SEEN = web.AppKey("seen", dict[str, Any])


@pytest.fixture(scope="module")
def instance_keys() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture
async def peer(instance_keys: tuple[str, str]) -> AsyncIterator[TestServer]:
    """A loopback peer serving the shapes the fetcher must cope with."""
    seen: dict[str, Any] = {}

    async def resolve(key_id: str, refresh: bool) -> ResolvedKey | None:
        return ResolvedKey(owner="http://127.0.0.1/actor", public_key=load_public(instance_keys[1]))

    def here(request: web.Request, path: str) -> str:
        return f"http://{request.host}{path}"

    async def note(request: web.Request) -> web.Response:
        seen.setdefault("cookies", []).append(request.headers.get("Cookie"))
        response = web.json_response(
            {"id": here(request, "/note"), "type": "Note"}, content_type="application/activity+json"
        )
        response.set_cookie("session", "tracking-you", path="/")
        return response

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/activity+json"})
        await response.prepare(request)
        for _ in range(64):
            await response.write(b" " * 65536)
        return response

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html></html>", content_type="text/html")

    async def spoof(request: web.Request) -> web.Response:
        return web.json_response(
            {"id": "https://victim.example/note", "type": "Note"},
            content_type="application/activity+json",
        )

    async def other_port(request: web.Request) -> web.Response:
        return web.json_response(
            {"id": "http://127.0.0.1:1/note", "type": "Note"},
            content_type="application/activity+json",
        )

    async def gone(request: web.Request) -> web.Response:
        return web.json_response({"error": "gone"}, status=410)

    async def redirect_private(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://0.0.0.0:9/x")

    async def redirect_ok(request: web.Request) -> web.Response:
        raise web.HTTPFound("/note")

    async def signed(request: web.Request) -> web.Response:
        verified = await verify_request(
            request.method, request.raw_path, request.headers, None, resolve
        )
        seen["signed_by"] = verified.key_id
        return web.json_response(
            {"id": here(request, "/signed"), "type": "Note"},
            content_type="application/ld+json",
            headers={},
        )

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        verified = await verify_request(
            request.method, request.raw_path, request.headers, body, resolve
        )
        seen["delivered"] = (verified.key_id, body)
        return web.Response(status=202)

    async def webfinger(request: web.Request) -> web.Response:
        resource = request.query.get("resource", "")
        seen["resource"] = resource
        return web.json_response(
            {
                "subject": resource,
                "links": [
                    {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
                     "href": here(request, "/@alice")},
                    {"rel": "self", "type": "application/activity+json",
                     "href": here(request, "/users/alice")},
                ],
            },
            content_type="application/jrd+json",
        )

    app = web.Application()
    app.router.add_get("/note", note)
    app.router.add_get("/big", big)
    app.router.add_get("/html", html)
    app.router.add_get("/spoof", spoof)
    app.router.add_get("/other-port", other_port)
    app.router.add_get("/gone", gone)
    app.router.add_get("/redirect-private", redirect_private)
    app.router.add_get("/redirect-ok", redirect_ok)
    app.router.add_get("/signed", signed)
    app.router.add_post("/inbox", inbox)
    app.router.add_get("/.well-known/webfinger", webfinger)
    app[SEEN] = seen
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


FetcherFactory = Callable[..., Awaitable[Fetcher]]


@pytest.fixture
async def make_fetcher(instance_keys: tuple[str, str]) -> AsyncIterator[FetcherFactory]:
    sessions: list[aiohttp.ClientSession] = []
    key = load_private(instance_keys[0])

    async def factory(allow_private: bool = True, **kw: Any) -> Fetcher:
        session = make_client_session("http", allow_private, None, "fedinode-test", 5.0)
        sessions.append(session)
        return Fetcher(
            session,
            scheme="http",
            allow_private=allow_private,
            signer=lambda: (KEY_ID, key),
            **kw,
        )

    yield factory
    for session in sessions:
        await session.close()


def url(server: TestServer, path: str) -> str:
    return str(server.make_url(path))


async def test_get_json(peer: TestServer, make_fetcher: FetcherFactory) -> None:
    fetcher = await make_fetcher()
    doc = await fetcher.get_json(url(peer, "/note"))
    assert doc["type"] == "Note"


async def test_peer_cookies_not_kept(peer: TestServer, make_fetcher: FetcherFactory) -> None:
    """A peer's Set-Cookie is not kept: the next request to it (or any peer) carries none."""
    fetcher = await make_fetcher()
    by_name = f"http://localhost:{peer.port}/note"  # a jar keeps no cookie of an IP address
    await fetcher.get_json(by_name)
    await fetcher.get_json(by_name)
    assert peer.app[SEEN]["cookies"] == [None, None]


async def test_body_cap(peer: TestServer, make_fetcher: FetcherFactory) -> None:
    fetcher = await make_fetcher(max_body=1024 * 1024)
    with pytest.raises(TooLarge) as info:
        await fetcher.get_json(url(peer, "/big"))
    assert info.value.status == 413


async def test_not_json(peer: TestServer, make_fetcher: FetcherFactory) -> None:
    fetcher = await make_fetcher()
    with pytest.raises(FetchError, match="not JSON"):
        await fetcher.get_json(url(peer, "/html"))


@pytest.mark.parametrize("path", ["/spoof", "/other-port"])
async def test_id_host_mismatch(peer: TestServer, make_fetcher: FetcherFactory, path: str) -> None:
    fetcher = await make_fetcher()
    with pytest.raises(FetchError, match="another host"):
        await fetcher.get_json(url(peer, path))


async def test_gone(peer: TestServer, make_fetcher: FetcherFactory) -> None:
    fetcher = await make_fetcher()
    with pytest.raises(FetchError) as info:
        await fetcher.get_json(url(peer, "/gone"))
    assert info.value.remote_status == 410


async def test_redirects_checked(peer: TestServer, make_fetcher: FetcherFactory) -> None:
    fetcher = await make_fetcher(allow_private=False)
    with pytest.raises(RefusedAddress):
        await fetcher.get_json(url(peer, "/redirect-ok"))
    fetcher = await make_fetcher()
    assert (await fetcher.get_json(url(peer, "/redirect-ok")))["type"] == "Note"
    # Each hop is checked: 0.0.0.0 is refused even with allow_private.
    with pytest.raises(RefusedAddress):
        await fetcher.get_json(url(peer, "/redirect-private"))


async def test_signed_get(peer: TestServer, make_fetcher: FetcherFactory) -> None:
    fetcher = await make_fetcher()
    doc = await fetcher.get_json(url(peer, "/signed"))
    assert doc["type"] == "Note"
    assert peer.app[SEEN]["signed_by"] == KEY_ID


async def test_post_signed(
    peer: TestServer, make_fetcher: FetcherFactory, instance_keys: tuple[str, str]
) -> None:
    fetcher = await make_fetcher()
    body = b'{"type":"Create"}'
    answer = await fetcher.post_signed(url(peer, "/inbox"), body, KEY_ID, load_private(instance_keys[0]))
    assert answer.status == 202 and answer.retry_after is None
    assert peer.app[SEEN]["delivered"] == (KEY_ID, body)


async def test_webfinger(peer: TestServer, make_fetcher: FetcherFactory) -> None:
    fetcher = await make_fetcher()
    host = f"127.0.0.1:{peer.port}"
    actor = await fetcher.webfinger(f"@alice@{host}")
    assert actor == f"http://{host}/users/alice"
    assert peer.app[SEEN]["resource"] == f"acct:alice@{host}"
    with pytest.raises(FetchError):
        await fetcher.webfinger("no-at-sign")


async def test_loopback_refused_before_connecting(make_fetcher: FetcherFactory) -> None:
    # Port 9 on loopback: nothing listens; refusal must come before any connection attempt.
    fetcher = await make_fetcher(allow_private=False)
    for target in ["http://127.0.0.1:9/x", "http://[::1]:9/x", "http://localhost:9/x"]:
        with pytest.raises(RefusedAddress):
            await fetcher.get_json(target)
    with pytest.raises(RefusedAddress):
        await fetcher.post_signed("http://127.0.0.1:9/inbox", b"{}", KEY_ID, load_private(generate_keypair()[0]))


async def test_connector_refuses_literal_ip_directly() -> None:
    # Even a caller bypassing Fetcher.check gets refused by the connector.
    session = make_client_session("http", False, None, "t", 2.0)
    try:
        with pytest.raises(aiohttp.ClientConnectorError) as info:
            await session.get("http://127.0.0.1:9/x")
        assert isinstance(info.value.os_error, RefusedAddress)
    finally:
        await session.close()


async def test_scheme_https_refuses_http(make_fetcher: FetcherFactory) -> None:
    session = make_client_session("https", True, None, "t", 2.0)
    try:
        fetcher = Fetcher(session, scheme="https", allow_private=True)
        with pytest.raises(RefusedAddress, match="scheme"):
            await fetcher.get_json("http://127.0.0.1:9/x")
    finally:
        await session.close()


async def test_every_inbox_on_a_refused_host_is_refused(make_fetcher: FetcherFactory) -> None:
    # The host's check is remembered once passed; a refused host is never remembered, and
    # a passed host does not let another scheme through.
    fetcher = await make_fetcher(allow_private=False)
    for n in range(3):
        with pytest.raises(RefusedAddress):
            fetcher.check(f"http://127.0.0.1:9/users/u{n}/inbox")
        with pytest.raises(RefusedAddress):
            fetcher.check(f"http://localhost:9/users/u{n}/inbox")
    passed = fetcher.check("http://peer.example/users/a/inbox")
    assert str(passed) == "http://peer.example/users/a/inbox"
    assert fetcher.check("http://peer.example/users/b/inbox").path == "/users/b/inbox"
    with pytest.raises(RefusedAddress, match="scheme"):
        fetcher.check("ftp://peer.example/users/c/inbox")
    with pytest.raises(RefusedAddress):
        fetcher.check("http://[not an address/inbox")
    session = make_client_session("https", True, None, "t", 2.0)
    try:
        strict = Fetcher(session, scheme="https", allow_private=True)
        assert strict.check("https://peer.example/users/a/inbox").scheme == "https"
        with pytest.raises(RefusedAddress, match="scheme"):
            strict.check("http://peer.example/users/b/inbox")
    finally:
        await session.close()
