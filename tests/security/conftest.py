"""Fixtures for the attack tests (helpers live in rig.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fedinode.app import create_app
from fedinode.config import Config, load_config
from security.rig import Api, FakePeer, Instance, start_home, start_peer


@pytest.fixture
def config(database_url: str) -> Config:
    base = load_config(None, environ={})
    return dataclasses.replace(
        base,
        instance=dataclasses.replace(base.instance, domain="local.test"),
        database=dataclasses.replace(base.database, url=database_url),
    )


@pytest.fixture
async def api(aiohttp_client: Any, config: Config) -> Api:
    """The client API on each backend (the Mastodon face, no federation peers)."""
    client: TestClient[Any, Any] = await aiohttp_client(create_app(config))
    return Api(client=client, config=config)


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[Instance]:
    instance = await start_home(tmp_path)
    await instance.user("alice")
    yield instance
    await instance.stop()


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    p = await start_peer({"mallory": 0, "eve": 1})
    yield p
    await p.server.close()


@pytest.fixture
async def third() -> AsyncIterator[FakePeer]:
    """Another host (another port on loopback is another authority)."""
    p = await start_peer({"bob": 2})
    yield p
    await p.server.close()
