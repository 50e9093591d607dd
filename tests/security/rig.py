"""Helpers for attack tests: a home instance on loopback, raw and signed POSTs."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

# remote_peer.py (the fake hostile server) lives beside the activitypub tests, the storage
# factories beside the storage tests.
sys.path.append(str(Path(__file__).parents[1] / "activitypub"))
sys.path.append(str(Path(__file__).parents[1] / "storage"))

from federation.conftest import Instance, eventually, free_port
from remote_peer import FakePeer, start_peer

from policy.settings import settings_from_mapping

__all__ = ["FakePeer", "Instance", "eventually", "start_peer"]


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
