"""Every route answers with or without a trailing slash, for every method, without a redirect.

Rails accepts ``/api/v1/admin/domain_blocks/`` as well as ``/api/v1/admin/domain_blocks``,
and clients depend on it (Mastodon.py POSTs domain blocks with the slash). The test walks
every route in the running app's router (client API, S2S, .well-known, OAuth, pages), sends
the same method to the path with and without a slash over HTTP, and checks that both reach
the same handler with the same path parameters. A recording middleware, innermost, answers
in the handler's place, so no handler runs and any redirect or routing error on the way in
shows up as the status.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from aiohttp.web_urldispatcher import DynamicResource, PlainResource, StaticResource

from fedinode.app import create_app
from fedinode.config import Config
from fedinode.middlewares import Handler

ClientFactory = Any
# Values tried for each path parameter, in order, until the route's pattern accepts them.
SAMPLES = ("1", "alice", "avatar.png", "public/local", "2.0")
HANDLER_HEADER = "X-Test-Handler"
MATCH_HEADER = "X-Test-Match"


def _key(handler: object) -> str:
    name = getattr(handler, "__qualname__", type(handler).__qualname__)
    return f"{getattr(handler, '__module__', '?')}.{name}#{id(handler)}"


@web.middleware
async def _recorder(request: web.Request, handler: Handler) -> web.StreamResponse:
    match = request.match_info
    if match.http_exception is not None:
        return await handler(request)  # the 404/405 the app would give
    return web.Response(
        status=200,
        headers={
            HANDLER_HEADER: _key(match.route.handler),
            MATCH_HEADER: json.dumps(dict(match), sort_keys=True),
        },
    )


def _sample_path(resource: web.AbstractResource) -> str | None:
    """A concrete path the resource matches (without a trailing slash), or None."""
    if isinstance(resource, PlainResource):
        return resource.canonical
    if isinstance(resource, DynamicResource):
        info = resource.get_info()
        formatter: str = info["formatter"]
        pattern: re.Pattern[str] = info["pattern"]
        names = re.findall(r"\{(\w+)\}", formatter)
        for values in itertools.product(SAMPLES, repeat=len(names)):
            path = formatter.format(**dict(zip(names, values, strict=True)))
            if pattern.fullmatch(path):
                return path
        return None
    if isinstance(resource, StaticResource):
        return None  # a directory of files: "name/" is not a file, in Rails either
    raise AssertionError(f"no sample path for {resource!r}: teach this test its kind")


async def _reach(client: TestClient[Any, Any], method: str, path: str) -> tuple[int, str, str]:
    resp = await client.request(method, path, allow_redirects=False)
    await resp.read()
    return resp.status, resp.headers.get(HANDLER_HEADER, ""), resp.headers.get(MATCH_HEADER, "")


async def test_every_route_answers_with_a_trailing_slash(
    aiohttp_client: ClientFactory, config: Config
) -> None:
    # Several requests to every route from one client: more than any rate limit allows.
    config = dataclasses.replace(
        config, rate_limits=dataclasses.replace(config.rate_limits, enabled=False)
    )
    app = create_app(config)
    app.middlewares.append(_recorder)
    client: TestClient[Any, Any] = await aiohttp_client(app)

    routes = [r for r in app.router.routes() if r.method != "*"]
    assert len(routes) > 150  # the walk really covers the whole table
    checked: set[tuple[str, str]] = set()
    failures = []
    for route in routes:
        assert route.resource is not None
        path = _sample_path(route.resource)
        if path is None and isinstance(route.resource, StaticResource):
            continue
        assert path is not None, f"no sample path for {route.method} {route.resource}"
        if path.endswith("/") or (route.method, path) in checked:
            continue  # "/" itself, or an explicit slash form
        checked.add((route.method, path))
        plain = await _reach(client, route.method, path)
        # The sample really reaches this route, so the slash check below means something.
        assert plain[:2] == (200, _key(route.handler)), (route.method, path, plain)
        slashed = await _reach(client, route.method, path + "/")
        if slashed != plain:
            failures.append(f"{route.method} {path}/ → {slashed[0]} {slashed[1] or ''}")
    # S2S, discovery and OAuth are in the walk too, not only /api.
    for must in ("/.well-known/webfinger", "/oauth/token", "/inbox", "/users/1"):
        assert any(p == must for _, p in checked), must
    assert not failures, "\n".join(failures)


async def test_slash_keeps_query_and_errors(aiohttp_client: ClientFactory, config: Config) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(create_app(config))
    # The query string survives; the method check still applies to the slash form.
    resp = await client.get("/.well-known/webfinger/?resource=acct:nobody@local.test")
    assert resp.status == 404
    assert resp.headers.get("Location") is None
    resp = await client.delete("/api/v1/instance/", allow_redirects=False)
    assert resp.status == 405
    assert "GET" in resp.headers["Allow"]
    assert (await resp.json())["error"] == "Method Not Allowed"
    # A path that exists in neither form is still a JSON 404, not a redirect loop.
    for path in ("/api/v1/nothing/", "/api/v1/nothing//"):
        resp = await client.post(path, allow_redirects=False)
        assert resp.status == 404, path
    # "//" is the landing page "/", which only answers GET.
    resp = await client.post("//", allow_redirects=False)
    assert resp.status == 405
    # Repeated slashes at the end are one slash, as in Rails.
    resp = await client.get("/api/v1/instance//", allow_redirects=False)
    assert resp.status == 200
    assert (await resp.json())["uri"] == "local.test"
