"""The remote media cache end to end, as a Mastodon app at the receiver sees it: a post from a
peer with an image, a video, a custom emoji and a link shows our copies of every file (the
peer's URL as ``remote_url``), of the author's avatar, a card with our copy of its image, and
the video's ``meta``; pruning the cache frees the files and the post still shows, with the
peer's URLs again (the card without an image); an edit brings every copy back. On both
databases, with the receiver's media in a folder or in an S3 bucket."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from media_rig import needs_ffmpeg
from PIL import Image
from s3_rig import make_bucket, stored_files

from federation.api_client import Client, follow, following, make_client, session
from federation.conftest import InstanceFactory, eventually
from fedinode.media_cli import prune_cache
from fedinode.preview_cards import CARD_WORKER
from fedinode.remote_media import MEDIA_CACHE_WORKER
from fedinode.services.custom_emojis import add_local_emoji

__all__ = ["session"]  # the fixture
pytestmark = needs_ffmpeg

PAGE = """<html><head><meta property="og:title" content="Peer news">
<meta property="og:description" content="What happened">
<meta property="og:image" content="/cover.png"></head><body>story</body></html>"""


def _png(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


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


async def _upload(client: Client, body: bytes, name: str, content_type: str) -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field("file", body, filename=name, content_type=content_type)
    media: dict[str, Any] = await client.call("POST", "/api/v1/media", data=form)
    assert media["url"], media
    return media


@pytest.fixture
async def web_page() -> Any:
    """A third-party site on loopback: the linked page and its og:image."""

    async def page(request: web.Request) -> web.Response:
        if request.path == "/cover.png":
            return web.Response(body=_png((300, 200), (200, 20, 20)), content_type="image/png")
        return web.Response(text=PAGE, content_type="text/html")

    site_app = web.Application()
    site_app.router.add_get("/{tail:.*}", page)
    site = TestServer(site_app, host="127.0.0.1")
    await site.start_server()
    yield site
    await site.close()


async def test_a_remote_post_s_media_is_served_here_and_pruning_keeps_it_readable(
    instances: InstanceFactory,
    session: aiohttp.ClientSession,
    backend: str,
    media_backend: str,
    web_page: TestServer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    media: dict[str, Any] = {}
    if media_backend == "s3":
        media = {"backend": "s3", "s3": make_bucket(request.getfixturevalue("s3_endpoint"))}
    a = await instances("a", backend="sqlite" if backend == "postgres" else "postgres")
    b = await instances("b", backend=backend, media=media)
    alice = await make_client(a, session, "alice")
    bob = await make_client(b, session, "bob")
    form = aiohttp.FormData()
    form.add_field("avatar", _png((200, 200), (30, 160, 60)), filename="me.png",
                   content_type="image/png")  # fmt: skip
    avatar = (await alice.call("PATCH", "/api/v1/accounts/update_credentials", data=form))[
        "avatar"
    ]
    await add_local_emoji(a.store, a.config, "blobcat", _png((64, 64), (220, 180, 0)))
    alice_on_b = await follow(bob, alice)
    await following(bob, alice_on_b)

    image = await _upload(alice, _png((120, 90), (10, 90, 200)), "photo.png", "image/png")
    video = await _upload(alice, _video(tmp_path), "clip.mkv", "video/x-matroska")
    assert video["type"] == "video"
    link = f"http://127.0.0.1:{web_page.port}/story"
    posted = await alice.status(
        f"a photo, a clip :blobcat: and {link}", media_ids=[image["id"], video["id"]]
    )

    async def settled() -> dict[str, Any] | None:
        # The workers run by themselves too; draining only makes the wait shorter.
        await b.app[CARD_WORKER].drain()  # type: ignore[index]
        await b.app[MEDIA_CACHE_WORKER].drain()  # type: ignore[index]
        seen = await bob.in_home(posted["uri"])
        if seen is None or seen["card"] is None or not seen["card"]["image"]:
            return None
        urls = [m["url"] for m in seen["media_attachments"]]
        urls += [seen["account"]["avatar"], *(e["url"] for e in seen["emojis"])]
        if not all(u.startswith(f"http://{b.domain}/") for u in urls):
            return None
        return seen if "duration" in seen["media_attachments"][1]["meta"] else None

    seen = await eventually(settled, within=60, what="the post's media cached at b")
    here = f"http://{b.domain}/media/cache/"
    shown_image, shown_video = seen["media_attachments"]
    assert shown_image["type"] == "image" and shown_video["type"] == "video"
    for shown, origin in ((shown_image, image), (shown_video, video)):
        assert shown["url"].startswith(here), shown
        assert shown["preview_url"].startswith(here), shown
        assert shown["remote_url"] == origin["url"]
        assert origin["url"].startswith(f"http://{a.domain}/media/")
    assert shown_image["meta"]["original"]["width"] == 120
    assert shown_video["meta"]["original"]["width"] == 96
    assert 0.9 <= shown_video["meta"]["duration"] <= 1.2
    card = seen["card"]
    assert (card["title"], card["url"]) == ("Peer news", link)
    assert card["image"].startswith(f"{here}cards/")
    assert seen["account"]["acct"] == alice.handle
    assert avatar.startswith(f"http://{a.domain}/media/")
    assert seen["account"]["avatar"].startswith(f"{here}avatars/")
    [emoji] = seen["emojis"]
    assert emoji["shortcode"] == "blobcat" and emoji["url"].startswith(f"{here}emojis/")

    # The copies are what b's clients download, from b: the same bytes for the image's
    # pixels, the video as the peer encoded it.
    for url in (shown_image["url"], shown_video["url"], card["image"], emoji["url"]):
        async with session.get(url) as resp:
            assert resp.status == 200, url
            assert len(await resp.read()) > 0
    async with session.get(video["url"]) as resp:
        assert await resp.read() == await (await session.get(shown_video["url"])).read()

    cached_files = [p for p in stored_files(b.config) if p.startswith("cache/")]
    # image + small, video + thumbnail, card image + small, avatar, emoji + static
    assert len(cached_files) >= 8

    # Pruning everything not served in the last 0 days: the files go, the post stays and
    # shows the peer's URLs again (the card keeps its text; its image was a copy only).
    out = io.StringIO()
    assert await prune_cache(b.config, 0, out=out) == 0
    assert [p for p in stored_files(b.config) if p.startswith("cache/")] == []
    assert await b.store.media_cache.total_bytes() == 0

    after = await bob.get(f"/api/v1/statuses/{seen['id']}")
    pruned_image, pruned_video = after["media_attachments"]
    assert pruned_image["url"] == image["url"] and pruned_image["remote_url"] == image["url"]
    assert pruned_image["preview_url"] == image["url"]
    assert pruned_video["url"] == video["url"] and pruned_video["remote_url"] == video["url"]
    assert pruned_video["type"] == "video" and "duration" in pruned_video["meta"]
    assert after["card"]["title"] == "Peer news" and after["card"]["url"] == link
    assert after["card"]["image"] is None  # as a pending or refused card image shows
    assert "pruning cached media: 5/5" in out.getvalue()
    assert "pruned 5 cached remote file(s)" in capsys.readouterr().out
    assert after["account"]["avatar"] == avatar
    assert after["emojis"][0]["url"].startswith(f"http://{a.domain}/")
    for shown in (pruned_image, pruned_video):
        async with session.get(shown["url"]) as resp:
            assert resp.status == 200, shown
    # The files a client had before pruning are gone from b, not left half-served.
    async with session.get(shown_image["url"]) as resp:
        assert resp.status == 404

    # An edit brings the post again: its files, and its card's image, are fetched anew and
    # served from here.
    await alice.call(
        "PUT", f"/api/v1/statuses/{posted['id']}",
        json={"status": f"a photo, a clip :blobcat: and {link} (edited)",
              "media_ids": [image["id"], video["id"]]},
    )  # fmt: skip

    async def refetched() -> dict[str, Any] | None:
        await b.app[CARD_WORKER].drain()  # type: ignore[index]
        await b.app[MEDIA_CACHE_WORKER].drain()  # type: ignore[index]
        again = await bob.get(f"/api/v1/statuses/{seen['id']}")
        if "(edited)" not in again["content"]:
            return None
        urls = [m["url"] for m in again["media_attachments"]]
        urls += [again["account"]["avatar"], *(e["url"] for e in again["emojis"])]
        if again["card"] is None or not again["card"]["image"]:
            return None
        return again if all(u.startswith(here) for u in urls) else None

    again = await eventually(refetched, within=60, what="the edited post's media cached again")
    assert [m["remote_url"] for m in again["media_attachments"]] == [image["url"], video["url"]]
    assert again["card"]["image"].startswith(f"{here}cards/")
    async with session.get(again["card"]["image"]) as resp:
        assert resp.status == 200
    if media:
        assert not (b.directory / "media").exists()  # all of it was in the bucket
