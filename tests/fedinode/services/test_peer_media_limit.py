"""[policy.peer_limits] media_bytes_per_day: remote media fetched from one peer per UTC day,
counted in the database; past the limit the rest waits for the next day (its remote URL
shown meanwhile) and the policy log records rule peer_limit. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from test_remote_media_cache import Peer, jpeg_with_exif, start_home, start_peer

from fedinode.config import Config
from policy.settings import settings_from_mapping
from storage.paging import Page
from storage.peer_usage import MEDIA_BYTES

# The middle of a UTC day: the test never straddles two windows.
PINNED_MS = 1_796_000_000_000 - 1_796_000_000_000 % 86_400_000 + 43_230_000


@pytest.fixture
async def media_peer() -> AsyncIterator[Peer]:
    """A peer with three images: bob's avatar and header, and a photo."""
    p = await start_peer()
    for name, (w, h) in (("avatar.jpg", (300, 300)), ("header.png", (600, 200)),
                         ("photo.jpg", (640, 480))):  # fmt: skip
        p.files[name] = ("image/jpeg", jpeg_with_exif(w, h))
    yield p
    await p.server.close()


def _limited(config: Config, peer_limits: dict[str, Any]) -> Config:
    return dataclasses.replace(
        config, policy=settings_from_mapping("open", {"peer_limits": peer_limits})
    )


async def test_media_past_the_daily_bytes_waits(
    aiohttp_client: Any, config: Config, tmp_path: Path, media_peer: Peer
) -> None:
    peer = media_peer
    home = await start_home(aiohttp_client, _limited(config, {"media_bytes_per_day": 1}),
                            tmp_path)  # fmt: skip
    assert home.worker.limiter is not None
    home.worker.limiter.clock = lambda: PINNED_MS
    status_id = await home.resolve(peer.note(1, [("photo.jpg", "image/jpeg")]))
    await home.worker.drain()
    # Under the limit the first file is fetched whole; the other two wait.
    assert len(peer.file_hits) == 1
    fetched = peer.files[peer.file_hits[0]][1]
    store = home.worker.store
    used = await store.peer_usage.usage(
        peer.base.removeprefix("http://"), MEDIA_BYTES, PINNED_MS - PINNED_MS % 86_400_000
    )
    assert used == len(fetched)
    status = await home.status(status_id)
    urls = [status["account"]["avatar"], status["account"]["header"],
            status["media_attachments"][0]["url"]]  # fmt: skip
    assert sum(u.startswith(peer.base) for u in urls) == 2  # still the peer's URLs
    records = await store.policy.decisions(Page(limit=20), rule="peer_limit")
    assert [(r.direction, r.peer, r.action) for r in records] == [
        ("fetch", peer.base.removeprefix("http://"), "throttle")
    ]
    assert "media_bytes_per_day = 1" in records[0].reason
    # Nothing more today: another round fetches nothing.
    assert await home.worker.drain() == 0
    assert len(peer.file_hits) == 1


async def test_override_lifts_the_media_limit_for_one_peer(
    aiohttp_client: Any, config: Config, tmp_path: Path, media_peer: Peer
) -> None:
    peer = media_peer
    domain = peer.base.removeprefix("http://")
    limits = {"media_bytes_per_day": 1,
              "overrides": [{"domain": domain, "media_bytes_per_day": 0}]}  # fmt: skip
    home = await start_home(aiohttp_client, _limited(config, limits), tmp_path)
    await home.resolve(peer.note(1, [("photo.jpg", "image/jpeg")]))
    await home.worker.drain()
    assert sorted(peer.file_hits) == ["avatar.jpg", "header.png", "photo.jpg"]
