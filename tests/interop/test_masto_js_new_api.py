"""masto.js drives the newer API surface of a real fedinode (SQLite, then PostgreSQL):
a video uploaded through /api/v2/media (masto.js polls until it is processed), an audio file
with its own thumbnail, scheduled
statuses, custom emojis, instance rules and domain blocks; ``tests/interop/masto/new_api.mjs``
prints what it saw as JSON. Skips like test_masto_js.py without node or masto.js."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from federation.conftest import Instance, free_port
from media_rig import HAVE_FFMPEG
from PIL import Image

from fedinode.config import Config, InstanceRule
from fedinode.services.custom_emojis import add_local_emoji
from interop.conftest import node_or_skip
from interop.test_masto_js import MASTO_DIR, run_masto
from policy.settings import settings_from_mapping


@dataclasses.dataclass
class RulesInstance(Instance):
    @property
    def config(self) -> Config:
        base = Instance.config.fget(self)  # type: ignore[attr-defined]
        rules = (InstanceRule("Be kind", "No harassment"), InstanceRule("No spam"))
        return dataclasses.replace(base, instance=dataclasses.replace(base.instance, rules=rules))  # type: ignore[no-any-return]


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _audio(directory: Path) -> Path:
    path = directory / "tone.mp3"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "sine=frequency=440:duration=1", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def _video(directory: Path) -> Path:
    path = directory / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "testsrc=size=64x48:rate=10:duration=1", "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


async def test_masto_js_video_scheduled_emojis_rules(database_url: str, tmp_path: Path) -> None:
    node = node_or_skip(MASTO_DIR, "masto")
    if not HAVE_FFMPEG:
        pytest.skip("ffmpeg is not installed (Debian: apt-get install ffmpeg)")
    video = await asyncio.to_thread(_video, tmp_path)
    audio = await asyncio.to_thread(_audio, tmp_path)
    thumbnail = tmp_path / "thumbnail.png"
    thumbnail.write_bytes(_png())
    policy = settings_from_mapping(
        "open", {"domain_blocks": [{"domain": "spam.example", "severity": "silence",
                                    "public_comment": "noisy"}]},
    )  # fmt: skip
    instance = RulesInstance("masto", free_port(), database_url, tmp_path / "masto", policy=policy)
    await instance.start()
    try:
        await instance.user("alice")
        assert instance.app is not None
        await add_local_emoji(instance.store, instance.config, "blobcat", _png(), "cats")
        scheduled_at, later_at = _iso(timedelta(hours=1)), _iso(timedelta(hours=3))
        report = await run_masto(
            node,
            {
                "url": f"http://{instance.domain}",
                "password": "correct horse battery",  # what Instance.user sets
                "login": "alice",
                "video": str(video),
                "audio": str(audio),
                "thumbnail": str(thumbnail),
                "scheduled_at": scheduled_at,
                "later_at": later_at,
            },
            script="new_api.mjs",
        )
        preview = report.get("audio_preview_url")
        assert preview, report  # the thumbnail sent with the audio file is its preview
        async with aiohttp.ClientSession() as http, http.get(preview) as answer:
            assert answer.status == 200
            with Image.open(io.BytesIO(await answer.read())) as picture:
                assert picture.size == (16, 12)
    finally:
        await instance.stop()
    assert report["steps"] == ["video", "audio", "scheduled", "emojis", "emoji_status", "instance"]
    assert report["audio_type"] == "audio"
    assert report["video_type"] == "video" and report["video_has_url"] is True
    assert report["video_has_preview"] is True and report["video_posted"] is True
    assert report["video_description"] == "test pattern"
    assert report["video_width"] == 64
    assert report["video_duration"] == pytest.approx(1.0, abs=0.2)
    assert report["scheduled_at"] == scheduled_at and report["moved_at"] == later_at
    assert report["scheduled_text"] == "later" and report["fetched_text"] == "later"
    assert report["scheduled_visibility"] == "unlisted"
    assert report["scheduled_poll"] == ["yes", "no"]
    assert report["listed"] == [report["scheduled_id"]] and report["after"] == 0
    assert report["emojis"] == [["blobcat", "cats", True, True]]
    assert report["status_emojis"] == ["blobcat"]
    assert report["rules"] == [["Be kind", "No harassment"], ["No spam", ""]]
    assert report["blocks"] == [["spam.example", "silence", "noisy", 64]]
