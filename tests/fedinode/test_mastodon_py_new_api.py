"""Acceptance: the real Mastodon.py library drives the newer API surface of a running instance
(scheduled statuses, asynchronous video uploads, preview cards, custom emojis, instance rules
and domain blocks) and every answer must come back as the library's typed entities with the
values we sent.

The instance (and a web page for preview cards) runs in this event loop on loopback;
Mastodon.py is synchronous, so it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import mastodon  # in the test extra: CI must run these, never skip them
import pytest
import requests
from aiohttp import web
from federation.conftest import Instance, free_port
from mastodon import return_types as rt
from mastodon_py_rig import ADMIN_SCOPES, SCOPES, log_in
from media_rig import needs_ffmpeg
from PIL import Image

from fedinode import appkeys
from fedinode.config import Config, InstanceRule
from fedinode.federation import federator_of
from fedinode.services.context import Ctx
from fedinode.services.scheduled_statuses import publish_due
from policy.settings import settings_from_mapping

PASSWORD = "correct horse battery"  # what Instance.user sets

PAGE = """<!doctype html><html><head><title>Plain title</title>
<meta property="og:title" content="A page worth a card">
<meta property="og:description" content="What the page is about">
<meta property="og:type" content="article">
<meta property="og:site_name" content="Loopback News">
<meta property="og:image" content="/card.png">
</head><body><p>hello</p></body></html>"""


@dataclass
class RulesInstance(Instance):
    """An instance with rules and a published domain block."""

    @property
    def config(self) -> Config:
        base = Instance.config.fget(self)  # type: ignore[attr-defined]
        rules = (InstanceRule("Be kind", "No harassment"), InstanceRule("No spam"))
        return replace(base, instance=replace(base.instance, rules=rules))  # type: ignore[no-any-return]


@pytest.fixture
async def page_url() -> AsyncIterator[str]:
    """A page with OpenGraph metadata on loopback, for preview cards."""

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def picture(_: web.Request) -> web.Response:
        out = io.BytesIO()
        Image.new("RGB", (400, 200), (30, 90, 160)).save(out, "PNG")
        return web.Response(body=out.getvalue(), content_type="image/png")

    app = web.Application()
    app.router.add_get("/article", page)
    app.router.add_get("/card.png", picture)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/article"
    finally:
        await runner.cleanup()


@pytest.fixture
async def instance(database_url: str, tmp_path: Path) -> AsyncIterator[RulesInstance]:
    policy = settings_from_mapping(
        "open",
        {"domain_blocks": [{"domain": "spam.example", "severity": "suspend",
                            "public_comment": "spam and nothing else"}]},
    )  # fmt: skip
    node = RulesInstance("clients", free_port(), database_url, tmp_path / "clients", policy=policy)
    await node.start()
    await node.user("alice")
    await node.user("root", admin=True)
    try:
        yield node
    finally:
        await node.stop()


def _session(base: str, login: str, scopes: list[str] = SCOPES) -> Any:
    return log_in(base, login, PASSWORD, scopes, app="clients")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _scheduled(alice: Any) -> None:
    when = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    image = alice.media_post(_png(), mime_type="image/png", description="red")
    scheduled = alice.status_post(
        "later, with a picture", scheduled_at=when, media_ids=[image], visibility="unlisted",
        spoiler_text="cw", sensitive=True, language="en",
    )  # fmt: skip
    assert isinstance(scheduled, rt.ScheduledStatus), type(scheduled)
    assert scheduled.scheduled_at == when
    assert isinstance(scheduled.params, rt.ScheduledStatusParams)
    assert scheduled.params.text == "later, with a picture"
    assert scheduled.params.visibility == "unlisted"
    assert scheduled.params.spoiler_text == "cw" and scheduled.params.sensitive is True
    assert scheduled.params.language == "en"
    assert [str(m) for m in scheduled.params.media_ids] == [str(image.id)]
    # Mastodon.py leaves these untyped (plain dicts)
    assert [m["id"] for m in scheduled.media_attachments] == [image.id]
    assert scheduled.media_attachments[0]["description"] == "red"

    listed = alice.scheduled_statuses()
    assert [s.id for s in listed] == [scheduled.id]
    assert isinstance(listed[0].scheduled_at, datetime)
    one = alice.scheduled_status(scheduled.id)
    assert one.id == scheduled.id and one.params.text == "later, with a picture"

    later = when + timedelta(hours=2)
    moved = alice.scheduled_status_update(scheduled.id, later)
    assert isinstance(moved, rt.ScheduledStatus)
    assert moved.id == scheduled.id and moved.scheduled_at == later
    assert alice.scheduled_status(scheduled.id).scheduled_at == later

    poll = alice.make_poll(["yes", "no"], expires_in=3600)
    with_poll = alice.status_post("a poll, later", poll=poll, scheduled_at=later)
    assert with_poll.params.poll.options == ["yes", "no"]
    assert int(with_poll.params.poll.expires_in) == 3600
    assert [s.id for s in alice.scheduled_statuses()] == [with_poll.id, scheduled.id]

    alice.scheduled_status_delete(scheduled.id)
    alice.scheduled_status_delete(with_poll)
    assert alice.scheduled_statuses() == []
    with pytest.raises(mastodon.MastodonNotFoundError):
        alice.scheduled_status(scheduled.id)


def _video(directory: Path) -> Path:
    path = directory / "clip.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "testsrc=size=64x48:rate=10:duration=1", "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def _video_upload(alice: Any, video: Path) -> None:
    uploaded = alice.media_post(str(video), description="test pattern", synchronous=True)
    assert isinstance(uploaded, rt.MediaAttachment)
    assert uploaded.type == "video"
    assert uploaded.url and uploaded.preview_url
    assert uploaded.description == "test pattern"
    assert uploaded.meta.original.width == 64 and uploaded.meta.original.height == 48
    assert float(uploaded.meta.original.duration) == pytest.approx(1.0, abs=0.2)
    assert requests.get(uploaded.url, timeout=30).status_code == 200
    posted = alice.status_post("a video", media_ids=[uploaded])
    assert [m.id for m in posted.media_attachments] == [uploaded.id]
    assert posted.media_attachments[0].type == "video"


def _card(alice: Any, page_url: str) -> None:
    posted = alice.status_post(f"read this {page_url}")
    card = None
    for _ in range(150):  # the card, then its image, are fetched after the status is posted
        card = alice.status_card(posted)
        if card is not None and card.image is not None:
            break
        time.sleep(0.1)
    assert isinstance(card, rt.PreviewCard), card
    assert card.url == page_url
    assert card.title == "A page worth a card"
    assert card.description == "What the page is about"
    assert card.type == "link"
    assert card.provider_name == "Loopback News"
    assert (card.width, card.height) == (400, 200) and card.blurhash
    assert "/media/cache/" in card.image and _picture_size(card.image)[0] <= 400  # our copy
    assert alice.status(posted).card.title == "A page worth a card"


def _emojis(base: str, root: Any, alice: Any) -> None:
    answer = requests.post(
        f"{base}/api/v1/admin/custom_emojis",
        headers={"Authorization": f"Bearer {root.access_token}"},
        data={"shortcode": "blobcat", "category": "cats"},
        files={"image": ("blobcat.png", _png(), "image/png")},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    emojis = alice.custom_emojis()
    assert [e.shortcode for e in emojis] == ["blobcat"]
    [emoji] = emojis
    assert isinstance(emoji, rt.CustomEmoji)
    assert emoji.category == "cats" and emoji.visible_in_picker is True
    assert requests.get(emoji.url, timeout=30).status_code == 200
    assert emoji.static_url
    posted = alice.status_post("hello :blobcat:")
    assert [e.shortcode for e in posted.emojis] == ["blobcat"]
    assert posted.emojis[0].url == emoji.url


def _instance(alice: Any) -> None:
    rules = alice.instance_rules()
    assert [r.text for r in rules] == ["Be kind", "No spam"]
    assert all(isinstance(r, rt.Rule) for r in rules)
    assert rules[0].hint == "No harassment"
    assert [r.text for r in alice.instance_v2().rules] == ["Be kind", "No spam"]
    blocks = alice.instance_domain_blocks()
    assert [b.domain for b in blocks] == ["spam.example"]
    [block] = blocks
    assert isinstance(block, rt.DomainBlock)
    assert block.severity == "suspend" and block.comment == "spam and nothing else"
    assert len(block.digest) == 64


def _scenario(base: str, page_url: str) -> None:
    alice = _session(base, "alice")
    root = _session(base, "root", ADMIN_SCOPES)
    _instance(alice)
    _scheduled(alice)
    _card(alice, page_url)
    _emojis(base, root, alice)


async def test_mastodon_py_scheduled_cards_emojis_rules(
    instance: RulesInstance, page_url: str
) -> None:
    await asyncio.to_thread(_scenario, f"http://{instance.domain}", page_url)


@needs_ffmpeg
async def test_mastodon_py_video_upload_polls_until_processed(
    instance: RulesInstance, tmp_path: Path
) -> None:
    video = await asyncio.to_thread(_video, tmp_path)
    alice = await asyncio.to_thread(_session, f"http://{instance.domain}", "alice")
    await asyncio.to_thread(_video_upload, alice, video)


def _audio(directory: Path) -> Path:
    path = directory / "tone.mp3"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
         "-i", "sine=frequency=440:duration=1", str(path)],
        check=True, timeout=60,
    )  # fmt: skip
    return path


def _picture_size(url: str) -> tuple[int, int]:
    answer = requests.get(url, timeout=30)
    assert answer.status_code == 200
    with Image.open(io.BytesIO(answer.content)) as image:
        return image.size


def _custom_thumbnails(alice: Any, video: Path, audio: Path) -> None:
    # Audio has no picture of its own: the thumbnail sent with it is its preview.
    tone = alice.media_post(
        str(audio), thumbnail=_png(), thumbnail_mime_type="image/png", synchronous=True
    )
    assert tone.type == "audio" and tone.url
    assert tone.preview_url is not None, "the thumbnail sent with the audio was dropped"
    assert _picture_size(tone.preview_url) == (16, 12)
    assert (tone.meta.small.width, tone.meta.small.height) == (16, 12)
    assert tone.blurhash
    # A video's thumbnail replaces its first frame, also when sent while it is processed.
    clip = alice.media_post(
        str(video), thumbnail=_png(), thumbnail_mime_type="image/png", synchronous=True
    )
    assert clip.type == "video" and _picture_size(clip.preview_url) == (16, 12)
    assert clip.meta.original.width == 64  # the video itself is as it was
    plain = alice.media_post(str(video), synchronous=True)
    assert _picture_size(plain.preview_url) == (64, 48)  # its first frame
    wide = io.BytesIO()
    Image.new("RGB", (30, 10), (0, 0, 200)).save(wide, "PNG")
    changed = alice.media_update(plain, thumbnail=wide.getvalue(), thumbnail_mime_type="image/png")
    assert changed.preview_url != plain.preview_url and changed.url == plain.url
    assert _picture_size(changed.preview_url) == (30, 10)
    assert requests.get(plain.preview_url, timeout=30).status_code == 404  # replaced
    posted = alice.status_post("sounds and pictures", media_ids=[tone, changed])
    assert [m.preview_url for m in posted.media_attachments] == [
        tone.preview_url, changed.preview_url
    ]


@needs_ffmpeg
async def test_mastodon_py_custom_thumbnails_for_video_and_audio(
    instance: RulesInstance, tmp_path: Path
) -> None:
    video = await asyncio.to_thread(_video, tmp_path)
    audio = await asyncio.to_thread(_audio, tmp_path)
    alice = await asyncio.to_thread(_session, f"http://{instance.domain}", "alice")
    await asyncio.to_thread(_custom_thumbnails, alice, video, audio)


def _schedule_reply(alice: Any) -> tuple[Any, Any, Any]:
    parent = alice.status_post("the question")
    image = alice.media_post(_png(), mime_type="image/png", description="a red square")
    when = datetime.now(UTC) + timedelta(minutes=30)
    scheduled = alice.status_post(
        "the answer", in_reply_to_id=parent, media_ids=[image], scheduled_at=when,
        visibility="unlisted", spoiler_text="spoiler", sensitive=True, language="fa",
    )  # fmt: skip
    return parent, image, scheduled


def _published(alice: Any, parent: Any, image: Any, scheduled: Any) -> None:
    assert alice.scheduled_statuses() == []
    [posted] = [s for s in alice.account_statuses(alice.me()) if s.id != parent.id]
    assert isinstance(posted, rt.Status)
    assert posted.in_reply_to_id == parent.id
    assert posted.visibility == "unlisted" and posted.language == "fa"
    assert posted.spoiler_text == "spoiler" and posted.sensitive is True
    assert [m.id for m in posted.media_attachments] == [image.id]
    assert posted.media_attachments[0].description == "a red square"
    assert "the answer" in posted.content
    assert posted.application is not None and posted.application.name == "clients"


async def test_mastodon_py_scheduled_reply_is_published_as_scheduled(
    instance: RulesInstance,
) -> None:
    alice = await asyncio.to_thread(_session, f"http://{instance.domain}", "alice")
    parent, image, scheduled = await asyncio.to_thread(_schedule_reply, alice)
    app = instance.app
    assert app is not None
    ctx = Ctx(store=instance.store, config=app[appkeys.CONFIG], urls=app[appkeys.URLS],
              federation=federator_of(app))  # fmt: skip
    await instance.store.scheduled_statuses.make_due(int(scheduled.id))
    assert await publish_due(ctx) == 1
    await asyncio.to_thread(_published, alice, parent, image, scheduled)
