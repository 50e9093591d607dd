"""Acceptance: the real toot CLI posts a video with its own thumbnail, schedules a status and
reads the instance's rules from a running instance (the fixtures of test_mastodon_py_new_api)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

import pytest
from media_rig import needs_ffmpeg
from test_mastodon_py_new_api import (  # noqa: F401  (the running-instance fixture)
    PASSWORD,
    RulesInstance,
    _audio,
    _picture_size,
    _png,
    _session,
    _video,
    instance,
)
from test_toot_cli import TootUser, _toot_command

pytest.importorskip("toot")


async def _login(tmp_path: Path, base: str, login: str) -> TootUser:
    user = TootUser(tmp_path / login, _toot_command())
    user.home.mkdir()
    out = await user.run("login_cli", "--instance", base, "--email", login, "--password", PASSWORD)
    assert "Successfully logged in" in out
    return user


def _last_json(out: str) -> dict:  # type: ignore[type-arg]
    # toot prints "Waiting for media to finish processing..." before the JSON it was asked for.
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


@needs_ffmpeg
async def test_toot_cli_video_thumbnail_scheduled_and_rules(
    instance: RulesInstance,  # noqa: F811
    tmp_path: Path,
) -> None:
    base = f"http://{instance.domain}"
    alice = await _login(tmp_path, base, "alice@clients.test")
    video = await asyncio.to_thread(_video, tmp_path)
    audio = await asyncio.to_thread(_audio, tmp_path)
    thumb = tmp_path / "thumb.png"
    thumb.write_bytes(_png())

    posted = _last_json(await alice.run(
        "post", "a clip", "--media", str(video), "--description", "pattern",
        "--thumbnail", str(thumb), "--json",
    ))  # fmt: skip
    [clip] = posted["media_attachments"]
    assert clip["type"] == "video" and clip["description"] == "pattern"
    assert await asyncio.to_thread(_picture_size, clip["preview_url"]) == (16, 12)

    sound = _last_json(await alice.run(
        "post", "a tone", "--media", str(audio), "--thumbnail", str(thumb), "--json"
    ))  # fmt: skip
    assert sound["media_attachments"][0]["type"] == "audio"
    preview = sound["media_attachments"][0]["preview_url"]
    assert await asyncio.to_thread(_picture_size, preview) == (16, 12)

    out = await alice.run("post", "later", "--scheduled-in", "1h")
    assert "Toot scheduled for:" in out
    when = datetime.strptime(out.split("Toot scheduled for:")[1].strip(), "%Y-%m-%d %H:%M:%S%z")
    api = await asyncio.to_thread(_session, base, "alice")
    [scheduled] = await asyncio.to_thread(api.scheduled_statuses)
    assert scheduled.params.text == "later" and scheduled.scheduled_at == when

    shown = await alice.run("instance", base)
    assert "Be kind" in shown and "No spam" in shown
