"""A video post federates: the author's Note carries a Document with the video's
mediaType and size, and the follower's instance shows a ``video`` attachment whose copy is
cached and described (duration, size, thumbnail). Instances on both backends."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import aiohttp
from media_rig import needs_ffmpeg

from federation.api_client import Client, follow, following, make_client, session
from federation.conftest import InstanceFactory, eventually

__all__ = ["session"]  # the fixture
pytestmark = needs_ffmpeg


def _video(tmp_path: Path) -> bytes:
    target = tmp_path / "clip.mkv"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i",
         "testsrc=size=96x64:rate=8:duration=1", "-f", "lavfi", "-i",
         "sine=frequency=500:duration=1", "-c:v", "mpeg4", "-c:a", "libvorbis", "-shortest",
         str(target)],
        check=True, timeout=60,
    )  # fmt: skip
    return target.read_bytes()


async def _processed(client: Client, media_id: str) -> dict[str, Any]:
    async def ready() -> dict[str, Any] | None:
        async with client.session.get(
            f"{client.base}/api/v1/media/{media_id}",
            headers={"Authorization": f"Bearer {client.token}"},
        ) as resp:
            body = await resp.json()
            assert resp.status in (200, 206), body
            return body if resp.status == 200 else None  # type: ignore[no-any-return]

    return await eventually(ready, within=120, what="video processed")


async def test_a_video_post_is_a_video_at_the_receiver(
    instances: InstanceFactory, session: aiohttp.ClientSession, backend: str, tmp_path: Path
) -> None:
    a = await instances("a", backend=backend)
    b = await instances("b", backend="sqlite" if backend == "postgres" else backend)
    alice = await make_client(a, session, "alice")
    bob = await make_client(b, session, "bob")
    alice_on_b = await follow(bob, alice)
    await following(bob, alice_on_b)

    form = aiohttp.FormData()
    form.add_field("file", _video(tmp_path), filename="clip.mkv", content_type="video/x-matroska")
    upload = await alice.call("POST", "/api/v2/media", expect=202, data=form)
    media = await _processed(alice, upload["id"])
    status = await alice.status("a short clip", media_ids=[media["id"]])

    # The Note as peers fetch it: a Document with the video's type and size.
    async with session.get(
        status["uri"], headers={"Accept": "application/activity+json"}
    ) as resp:
        note = await resp.json()
    [document] = note["attachment"]
    assert document["type"] == "Document" and document["mediaType"] == "video/mp4"
    assert (document["width"], document["height"]) == (96, 64)
    assert document["url"] == media["url"]

    async def arrived() -> dict[str, Any] | None:
        for item in await bob.home():
            if item["uri"] == status["uri"]:
                return item  # type: ignore[no-any-return]
        return None

    seen = await eventually(arrived, within=30, what="the video post at b")
    [attachment] = seen["media_attachments"]
    assert attachment["type"] == "video"
    assert attachment["remote_url"] == media["url"]
    assert attachment["meta"]["original"]["width"] == 96

    # b's worker caches the file and reads it: local URL, duration, thumbnail.
    async def described() -> dict[str, Any] | None:
        item = await arrived()
        found = item["media_attachments"][0] if item else None
        return found if found and "duration" in found["meta"] else None

    cached = await eventually(described, within=60, what="the video cached and described at b")
    assert cached["type"] == "video"
    assert cached["url"].startswith(f"http://{b.domain}/media/")
    assert 0.9 <= cached["meta"]["duration"] <= 1.2 and cached["meta"]["fps"] == 8
    assert cached["meta"]["width"] == 96 and cached["meta"]["audio_encode"] == "aac"
    assert cached["preview_url"].startswith(f"http://{b.domain}/media/")
    async with session.get(cached["url"]) as resp:
        assert resp.status == 200 and resp.content_type == "video/mp4"
