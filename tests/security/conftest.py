"""Fixtures for the attack tests (helpers live in rig.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from security.rig import FakePeer, Instance, start_home, start_peer


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
