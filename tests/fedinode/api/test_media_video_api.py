"""Video, audio and animated GIF uploads: ``/api/v2/media`` answers 202 and the worker
transcodes (GET gives 206, then 200 with url and meta); ``/api/v1/media`` answers once
done; a file that is no media is refused with a clear error; a job left by a stopped
process is finished by the next one. Test media are made with ffmpeg (lavfi sources)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from extras_rig import Rig, User, make_rig, with_media_dir
from media_rig import needs_ffmpeg
from test_entities import MEDIA_ATTACHMENT, MEDIA_SIZE, NULL, Table, check, opt
from test_media import form

from fedinode.api import entities
from fedinode.app import create_app
from fedinode.config import Config

FFMPEG = ["ffmpeg", "-v", "error", "-nostdin", "-y"]


# Mastodon's documented MediaAttachment, with the ``meta`` of video, gifv and audio
# (https://docs.joinmastodon.org/entities/MediaAttachment/#meta).
AV_ORIGINAL: Table = {**MEDIA_SIZE, "frame_rate": (str,), "duration": (float,), "bitrate": (int,)}
AUDIO_ORIGINAL: Table = {"duration": (float,), "bitrate": (int,)}
AV_MEDIA: Table = {
    **MEDIA_ATTACHMENT,
    "meta": (
        {
            "length": (str,),
            "duration": (float,),
            "fps": opt(int),
            "size": opt(str),
            "width": opt(int),
            "height": opt(int),
            "aspect": opt(float),
            "audio_encode": opt(str),
            "audio_bitrate": opt(str),
            "audio_channels": opt(str),
            "original": (AV_ORIGINAL, AUDIO_ORIGINAL),
            "small": opt(MEDIA_SIZE),
            "focus": opt({"x": (float,), "y": (float,)}, NULL),
        },
    ),
}


def make_file(tmp_path: Path, name: str, *args: str) -> bytes:
    target = tmp_path / name
    subprocess.run([*FFMPEG, *args, str(target)], check=True, timeout=60)
    return target.read_bytes()


def video_mp4(tmp_path: Path) -> bytes:
    # 1 s of 160×120 at 10 fps with a 440 Hz tone, in a container apps would not all play.
    return make_file(
        tmp_path, "in.mkv", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:duration=1",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-c:v", "mpeg4", "-c:a",
        "libvorbis", "-shortest",
    )  # fmt: skip


def audio_wav(tmp_path: Path) -> bytes:
    return make_file(tmp_path, "in.wav", "-f", "lavfi", "-i", "sine=frequency=300:duration=1.5")


def animated_gif(tmp_path: Path) -> bytes:
    return make_file(tmp_path, "in.gif", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1")


def probe_bytes(tmp_path: Path, data: bytes) -> dict[str, Any]:
    target = tmp_path / "served"
    target.write_bytes(data)
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_format", "-show_streams", str(target)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return json.loads(out.stdout)  # type: ignore[no-any-return]


async def until_processed(user: User, media_id: str, *, rounds: int = 600) -> dict[str, Any]:
    """Poll GET /api/v1/media/:id as an app does: 206 while processing, then 200."""
    for _ in range(rounds):
        resp = await user.client.get(f"/api/v1/media/{media_id}", headers=user.auth)
        body = await resp.json()
        if resp.status == 200:
            return body  # type: ignore[no-any-return]
        assert resp.status == 206, (resp.status, body)
        assert body["url"] is None
        await asyncio.sleep(0.1)
    raise AssertionError("media was never processed")


async def served(rig: Rig, url: str) -> tuple[str, bytes]:
    resp = await rig.client.get(url.split("https://local.test", 1)[1])
    assert resp.status == 200
    return resp.content_type, await resp.read()


@needs_ffmpeg
async def test_video_upload_is_transcoded_to_h264_mp4_with_meta(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    first = await alice.call(
        "POST", "/api/v2/media", expect=202,
        data=form(video_mp4(tmp_path), "clip.mkv", "video/x-matroska", description="a test"),
    )  # fmt: skip
    assert first["type"] == "video" and first["url"] is None
    assert first["description"] == "a test"
    # Not attachable while processing, as Mastodon answers.
    refused = await alice.call(
        "POST", "/api/v1/statuses", expect=422, json={"status": "x", "media_ids": [first["id"]]}
    )
    assert "not finished processing" in refused["error"]

    media = await until_processed(alice, first["id"])
    check(media, AV_MEDIA, entities.MediaAttachment, "Media (video)")
    assert media["type"] == "video"
    assert media["url"].endswith("/original.mp4") and media["preview_url"].endswith(".jpg")
    assert media["blurhash"]
    meta = media["meta"]
    assert meta["width"] == 160 and meta["height"] == 120 and meta["size"] == "160x120"
    assert meta["fps"] == 10 and meta["aspect"] == pytest.approx(4 / 3, rel=1e-3)
    assert 0.9 <= meta["duration"] <= 1.2 and meta["length"].startswith("0:00:01")
    assert meta["original"]["width"] == 160 and meta["original"]["frame_rate"] == "10/1"
    assert meta["original"]["bitrate"] > 0
    assert max(meta["small"]["width"], meta["small"]["height"]) <= rig.config.media.thumbnail_size
    assert meta["audio_encode"] == "aac" and meta["audio_channels"] == "stereo"

    ctype, body = await served(rig, media["url"])
    assert ctype == "video/mp4"
    streams = {s["codec_type"]: s for s in probe_bytes(tmp_path, body)["streams"]}
    assert streams["video"]["codec_name"] == "h264" and streams["video"]["pix_fmt"] == "yuv420p"
    assert streams["audio"]["codec_name"] == "aac"
    ctype, _ = await served(rig, media["preview_url"])
    assert ctype == "image/jpeg"

    status = await alice.call(
        "POST", "/api/v1/statuses", json={"status": "watch", "media_ids": [media["id"]]}
    )
    assert status["media_attachments"][0]["type"] == "video"
    assert status["media_attachments"][0]["meta"]["duration"] == meta["duration"]


@needs_ffmpeg
async def test_audio_becomes_mp3_and_an_animated_gif_a_gifv(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    first = await alice.call(
        "POST", "/api/v2/media", expect=202, data=form(audio_wav(tmp_path), "tone.wav", "audio/wav")
    )
    assert first["type"] == "audio"
    audio = await until_processed(alice, first["id"])
    check(audio, AV_MEDIA, entities.MediaAttachment, "Media (audio)")
    assert audio["url"].endswith(".mp3") and audio["preview_url"] is None
    assert audio["meta"]["audio_encode"] == "mp3"
    assert 1.4 <= audio["meta"]["original"]["duration"] <= 1.7
    assert "width" not in audio["meta"]
    ctype, body = await served(rig, audio["url"])
    assert ctype == "audio/mpeg"
    assert [s["codec_name"] for s in probe_bytes(tmp_path, body)["streams"]] == ["mp3"]

    first = await alice.call(
        "POST", "/api/v2/media", expect=202, data=form(animated_gif(tmp_path), "a.gif", "image/gif")
    )
    assert first["type"] == "gifv"
    gifv = await until_processed(alice, first["id"])
    check(gifv, AV_MEDIA, entities.MediaAttachment, "Media (gifv)")
    assert gifv["url"].endswith(".mp4") and gifv["meta"]["width"] == 64
    _, body = await served(rig, gifv["url"])
    assert [s["codec_type"] for s in probe_bytes(tmp_path, body)["streams"]] == ["video"]


@needs_ffmpeg
async def test_v1_upload_answers_once_processed_and_opus_is_configurable(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    config = dataclasses.replace(config, media=dataclasses.replace(config.media, audio_format="opus"))
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    media = await alice.call("POST", "/api/v1/media", data=form(video_mp4(tmp_path), "v.mkv", "video/x-matroska"))
    assert media["type"] == "video" and media["url"].endswith(".mp4")
    assert media["meta"]["original"]["width"] == 160
    audio = await alice.call("POST", "/api/v1/media", data=form(audio_wav(tmp_path), "t.wav", "audio/wav"))
    assert audio["url"].endswith(".ogg")
    ctype, _ = await served(rig, audio["url"])
    assert ctype == "audio/ogg"


@needs_ffmpeg
async def test_a_file_that_is_no_media_is_refused_with_a_clear_error(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    junk = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20  # an MP4 header, then garbage
    for path in ("/api/v2/media", "/api/v1/media"):
        body = await alice.call("POST", path, expect=422, data=form(junk, "broken.mp4", "video/mp4"))
        assert body["error"].startswith("Validation failed: File content type is invalid")
        assert str(tmp_path) not in body["error"] and "/tmp" not in body["error"]
    # A playlist naming a local file is not opened (no demuxer but plain containers).
    playlist = b"#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
    await alice.call("POST", "/api/v2/media", expect=422, data=form(playlist, "x.m3u8", "video/mp4"))
    assert not list((tmp_path / "media").rglob("source"))


@needs_ffmpeg
async def test_a_failed_transcode_is_a_clear_error_state(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    # Every transcode exceeds a time limit this small: the job fails and says why.
    tight = dataclasses.replace(
        config, media=dataclasses.replace(config.media, transcode_timeout_seconds=0.001)
    )
    rig = await make_rig(aiohttp_client, tight, tmp_path)
    alice = await rig.user("alice")
    first = await alice.call(
        "POST", "/api/v2/media", expect=202, data=form(video_mp4(tmp_path), "v.mkv", "video/x-matroska")
    )
    for _ in range(600):
        resp = await alice.client.get(f"/api/v1/media/{first['id']}", headers=alice.auth)
        if resp.status != 206:
            break
        await asyncio.sleep(0.1)
    body = await resp.json()
    assert resp.status == 422, body
    assert body["error"] == (
        "Validation failed: the file could not be processed: Transcoding took longer than 0.001 seconds"
    )
    sync = await alice.call(
        "POST", "/api/v1/media", expect=422, data=form(video_mp4(tmp_path), "v.mkv", "video/x-matroska")
    )
    assert "Transcoding took longer" in sync["error"]
    await alice.call(
        "POST", "/api/v1/statuses", expect=422, json={"status": "x", "media_ids": [first["id"]]}
    )
    # The uploader can delete it; its kept upload goes with it.
    await alice.call("DELETE", f"/api/v1/media/{first['id']}")
    assert not list((tmp_path / "media").rglob("source"))


@needs_ffmpeg
async def test_a_pending_upload_is_processed_by_the_next_process(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    config = with_media_dir(config, tmp_path)
    # A web-only process takes the upload and has no worker: the job waits in the database.
    web_client: TestClient[Any, Any] = await aiohttp_client(create_app(config, role="web"))
    rig = Rig(client=web_client, config=config)
    alice = await rig.user("alice")
    first = await alice.call(
        "POST", "/api/v2/media", expect=202, data=form(video_mp4(tmp_path), "v.mkv", "video/x-matroska")
    )
    resp = await web_client.get(f"/api/v1/media/{first['id']}", headers=alice.auth)
    assert resp.status == 206
    # Described while it waits: Mastodon answers 206 to that too, still without a url.
    resp = await web_client.put(
        f"/api/v1/media/{first['id']}", headers=alice.auth, json={"description": "waiting"}
    )
    described = await resp.json()
    assert (resp.status, described["description"], described["url"]) == (206, "waiting", None)
    await web_client.close()

    # The next process (all roles) finds the pending job and finishes it.
    client: TestClient[Any, Any] = await aiohttp_client(create_app(config))
    again = User(account=alice.account, token=alice.token, client=client)
    media = await until_processed(again, first["id"])
    assert media["type"] == "video" and media["url"].endswith(".mp4")
    assert not list((tmp_path / "media").rglob("source"))


async def test_a_remote_video_shows_what_its_peer_said(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    from activitypub.convert.parsed_notes import duration_from_as
    from fedinode.api import schemas
    from storage.media import NewMedia

    assert duration_from_as("PT1M2.5S") == 62.5 and duration_from_as(12) == 12.0
    assert duration_from_as("P") is None and duration_from_as(True) is None
    assert duration_from_as("PT99999999H") is None and duration_from_as("soon") is None
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    media = await rig.store.media.create(
        NewMedia(
            account_id=alice.account.id,
            type="video",
            content_type="video/mp4",
            remote_url="https://peer.example/v.mp4",
            meta={"width": 640, "height": 360, "duration": 62.5},
        )
    )
    shown = schemas.media_to_api(rig.config, media)
    assert shown["url"] == "https://peer.example/v.mp4" and shown["preview_url"] is None
    meta = shown["meta"]
    assert meta is not None
    assert meta.get("original") == {
        "width": 640, "height": 360, "size": "640x360", "aspect": round(640 / 360, 6), "duration": 62.5,
    }  # fmt: skip
    assert meta.get("length") == "0:01:02.50" and meta.get("duration") == 62.5
    assert meta.get("size") == "640x360"


@needs_ffmpeg
async def test_video_with_too_large_frames_or_too_long_is_refused_at_upload(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    tight = dataclasses.replace(
        config, media=dataclasses.replace(config.media, max_image_pixels=160 * 120 - 1)
    )
    rig = await make_rig(aiohttp_client, tight, tmp_path)
    alice = await rig.user("alice")
    body = await alice.call(
        "POST", "/api/v2/media", expect=422, data=form(video_mp4(tmp_path), "v.mkv", "video/x-matroska")
    )
    assert body["error"] == f"Validation failed: video dimensions exceed the limit of {160 * 120 - 1} pixels"
    short = dataclasses.replace(config, media=dataclasses.replace(config.media, video_max_seconds=1))
    rig = await make_rig(aiohttp_client, short, tmp_path / "short")
    bob = await rig.user("bob")
    body = await bob.call(
        "POST", "/api/v1/media", expect=422, data=form(audio_wav(tmp_path), "t.wav", "audio/wav")
    )
    assert body["error"] == "Validation failed: the file is longer than 1 seconds"
