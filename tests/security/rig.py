"""Helpers for attack tests: a home instance on loopback, raw and signed POSTs."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from aiohttp.test_utils import TestServer

# remote_peer.py (the fake hostile server) lives beside the activitypub tests, the storage
# factories beside the storage tests.
sys.path.append(str(Path(__file__).parents[1] / "activitypub"))
sys.path.append(str(Path(__file__).parents[1] / "storage"))
sys.path.append(str(Path(__file__).parents[1] / "fedinode" / "api"))

from api_helpers import PASSWORD, Actor, Api, register
from federation.conftest import Instance, eventually, free_port
from remote_peer import FakePeer, start_peer

from policy.settings import settings_from_mapping

__all__ = [
    "PASSWORD",
    "Actor",
    "Api",
    "FakePeer",
    "Instance",
    "eventually",
    "register",
    "start_peer",
]


async def start_home(tmp_path: Path, policy: dict[str, Any] | None = None) -> Instance:
    instance = Instance("home", free_port(), f"sqlite:///{tmp_path}/home.sqlite3", tmp_path)
    if policy is not None:
        instance.policy = settings_from_mapping("open", policy)
    await instance.start()
    return instance


async def post_raw(
    home: Instance, body: bytes, headers: dict[str, str], path: str = "/inbox"
) -> tuple[int, str]:
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        async with session.post(
            f"http://{home.domain}{path}", data=body, headers=headers, skip_auto_headers=["Host"]
        ) as response:
            return response.status, await response.text()


async def send(
    home: Instance,
    peer: FakePeer,
    activity: dict[str, Any],
    *,
    signer: str = "mallory",
    path: str = "/inbox",
) -> tuple[int, str]:
    body, headers = peer.signed_post(f"http://{home.domain}{path}", activity, signer=signer)
    return await post_raw(home, body, headers, path)


async def drained(home: Instance) -> None:
    """Wait until the inbox worker has taken every queued activity."""

    async def idle() -> bool:
        return await home.store.queues.inbox_pending() == 0

    await eventually(idle, what="inbox drained")
    await home.fed.processor.run_until_idle()


SendFn = Callable[..., Awaitable[tuple[int, str]]]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Hostile:
    """A bare loopback server answering whatever the test wires; records every path hit."""

    server: TestServer
    hits: list[str] = field(default_factory=list)

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def url(self, path: str) -> str:
        return f"http://{self.domain}{path}"


async def start_hostile(routes: Callable[[Hostile], dict[str, Handler]]) -> Hostile:
    """Start a server whose GET handlers come from ``routes(hostile)`` (path → handler)."""
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")
    hostile = Hostile(server=server)

    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        hostile.hits.append(request.path_qs)
        return await handler(request)

    app.middlewares.append(record)
    # Handlers read hostile.domain when called, i.e. once the port is bound.
    for path, handler in routes(hostile).items():
        app.router.add_get(path, handler)
    await server.start_server()
    return hostile


def as_json(doc: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(doc), status=status,
                        content_type="application/activity+json")  # fmt: skip
