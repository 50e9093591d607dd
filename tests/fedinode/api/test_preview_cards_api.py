"""Link preview cards against a real web server on loopback: what a card shows, its image
served from here, one fetch per URL, and the pages that get no card (a private address when
those are not allowed, an oversized page, another type, a policy refusal)."""

from __future__ import annotations

import asyncio
import dataclasses
import io
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from extras_rig import User, make_rig
from PIL import Image

from activitypub.urls import Urls
from fedinode import appkeys
from fedinode.config import Config
from fedinode.preview_cards import CARD_WORKER
from fedinode.remote_media import MEDIA_CACHE_WORKER
from fedinode.services.preview_cards import first_link, queue_card
from policy.settings import DomainBlock
from storage.media import NewMedia
from storage.statuses import NewStatus


def _png() -> bytes:
    image = Image.new("RGB", (800, 420), (30, 90, 200))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


ARTICLE = """<!doctype html><html lang="fa"><head><meta charset="utf-8">
<title>Fallback title</title>
<meta property="og:title" content="سلام دنیا — an article">
<meta property="og:description" content="What the article is about.">
<meta property="og:site_name" content="Example News">
<meta property="og:image" content="/images/cover.png">
<meta name="author" content="Reza">
<meta property="article:published_time" content="2026-11-01T10:00:00Z">
</head><body><p>text</p></body></html>"""

VIDEO = """<html><head><title>A video</title>
<link rel="alternate" type="application/json+oembed" href="/oembed.json?u=1">
</head><body></body></html>"""

OEMBED = {
    "type": "video",
    "version": "1.0",
    "title": "The video",
    "author_name": "Someone",
    "author_url": "/someone",
    "provider_name": "Tube",
    "provider_url": "/",
    "html": '<iframe src="https://tube.example/embed/1" width="480" height="270"'
    ' onload="steal()"></iframe><script>alert(1)</script>',
    "width": 480,
    "height": 270,
    "thumbnail_url": "/images/cover.png",
}


_GATES: dict[str, asyncio.Event] = {}


@pytest.fixture
async def site() -> AsyncIterator[tuple[str, Counter[str]]]:
    hits: Counter[str] = Counter()

    async def handler(request: web.Request) -> web.StreamResponse:
        hits[request.path] += 1
        if request.path in _GATES:  # the article, once the test lets it go
            await _GATES[request.path].wait()
            return web.Response(text=ARTICLE, content_type="text/html")
        if request.path == "/article":
            return web.Response(text=ARTICLE, content_type="text/html")
        if request.path == "/video":
            return web.Response(text=VIDEO, content_type="text/html")
        if request.path == "/oembed.json":
            return web.json_response(OEMBED)
        if request.path == "/images/cover.png":
            return web.Response(body=_png(), content_type="image/png")
        if request.path == "/huge":
            # Chunked, no Content-Length: the cap must hold while reading.
            response = web.StreamResponse(headers={"Content-Type": "text/html"})
            await response.prepare(request)
            await response.write(b"<html><head><title>big</title></head><body>")
            for _ in range(64):
                await response.write(b"x" * 4096)
            await response.write_eof()
            return response
        if request.path == "/file.pdf":
            return web.Response(body=b"%PDF-1.4", content_type="application/pdf")
        return web.Response(status=404)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield f"http://127.0.0.1:{server.port}", hits
    await server.close()


def _config(config: Config, *, allow_private: bool = True) -> Config:
    return dataclasses.replace(
        config,
        federation=dataclasses.replace(
            config.federation, scheme="http", allow_private_addresses=allow_private
        ),
        media=dataclasses.replace(config.media, card_page_max_bytes=65_536),
    )


async def _settle(client: TestClient[Any, Any]) -> None:
    """Run the card worker and then the media cache until both have nothing due."""
    # The application's own workers run too: whichever claims a row finishes it.
    db = client.app[CARD_WORKER].store.db
    for _ in range(400):
        await client.app[CARD_WORKER].drain()
        await client.app[MEDIA_CACHE_WORKER].drain()
        pending = await db.fetchval(
            "SELECT (SELECT COUNT(*) FROM preview_cards WHERE state = 'pending')"
            " + (SELECT COUNT(*) FROM remote_media WHERE state = 'pending')"
        )
        if not pending:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("cards or their images still pending")


async def _post(user: User, text: str) -> dict[str, Any]:
    result: dict[str, Any] = await user.call("POST", "/api/v1/statuses", json={"status": text})
    return result


async def test_a_card_shows_the_page_and_its_image_from_here(
    aiohttp_client: Any, config: Config, tmp_path: Path, site: tuple[str, Counter[str]]
) -> None:
    base, hits = site
    rig = await make_rig(aiohttp_client, _config(config), tmp_path)
    alice = await rig.user("alice")
    bob = await rig.user("bob")
    # A hashtag and a mention come first: the card is the article's.
    status = await _post(alice, f"#news @bob read {base}/article#part and {base}/video")
    assert status["card"] is None  # never fetched in the request
    await _settle(rig.client)

    card = await alice.call("GET", f"/api/v1/statuses/{status['id']}/card")
    assert card["url"] == f"{base}/article"
    assert card["title"] == "سلام دنیا — an article"
    assert card["description"] == "What the article is about."
    assert card["provider_name"] == "Example News"
    assert card["author_name"] == "Reza"
    assert card["authors"] == [{"name": "Reza", "url": "", "account": None}]
    assert card["type"] == "link"
    assert card["language"] == "fa"
    assert card["published_at"] == "2026-11-01T10:00:00.000Z"
    assert card["blurhash"]
    base_url = rig.config.base_url
    assert card["image"].startswith(f"{base_url}/media/cache/cards/"), card["image"]
    image = await rig.client.get(card["image"].removeprefix(base_url))
    assert image.status == 200
    served = Image.open(io.BytesIO(await image.read()))
    assert max(served.size) <= rig.config.media.thumbnail_size
    assert (card["width"], card["height"]) == served.size

    shown = await bob.call("GET", f"/api/v1/statuses/{status['id']}")
    assert shown["card"] == card

    # Cards are per URL: another status linking the page shares it, fetched once.
    again = await _post(bob, f"also {base}/article")
    await _settle(rig.client)
    assert (await bob.call("GET", f"/api/v1/statuses/{again['id']}"))["card"] == card
    assert hits["/article"] == 1
    assert hits["/images/cover.png"] == 1


async def test_an_oembed_video_card_keeps_only_a_clean_iframe(
    aiohttp_client: Any, config: Config, tmp_path: Path, site: tuple[str, Counter[str]]
) -> None:
    base, _ = site
    rig = await make_rig(aiohttp_client, _config(config), tmp_path)
    alice = await rig.user("alice")
    status = await _post(alice, f"watch {base}/video")
    await _settle(rig.client)
    card = await alice.call("GET", f"/api/v1/statuses/{status['id']}/card")
    assert card["type"] == "video"
    assert card["title"] == "The video"
    assert card["provider_name"] == "Tube"
    assert card["author_url"] == f"{base}/someone"
    assert (card["width"], card["height"]) == (480, 270)
    assert card["html"].startswith('<iframe src="https://tube.example/embed/1"')
    assert "onload" not in card["html"] and "script" not in card["html"]
    assert card["image"].startswith(f"{rig.config.base_url}/media/cache/cards/")


async def test_pages_that_get_no_card(
    aiohttp_client: Any, config: Config, tmp_path: Path, site: tuple[str, Counter[str]]
) -> None:
    base, hits = site
    rig = await make_rig(aiohttp_client, _config(config), tmp_path)
    alice = await rig.user("alice")
    huge = await _post(alice, f"big {base}/huge")
    pdf = await _post(alice, f"file {base}/file.pdf")
    await _settle(rig.client)
    for status in (huge, pdf):
        assert await alice.call("GET", f"/api/v1/statuses/{status['id']}/card") == {}
        assert (await alice.call("GET", f"/api/v1/statuses/{status['id']}"))["card"] is None
    refused = await rig.store.preview_cards.by_url(f"{base}/huge")
    assert refused is not None and refused.state == "failed"
    assert "limit" in refused.last_error
    assert hits["/huge"] == 1


async def test_a_private_address_is_refused_unless_allowed(
    aiohttp_client: Any, config: Config, tmp_path: Path, site: tuple[str, Counter[str]]
) -> None:
    base, hits = site
    rig = await make_rig(aiohttp_client, _config(config, allow_private=False), tmp_path)
    alice = await rig.user("alice")
    status = await _post(alice, f"read {base}/article")
    await _settle(rig.client)
    assert await alice.call("GET", f"/api/v1/statuses/{status['id']}/card") == {}
    card = await rig.store.preview_cards.by_url(f"{base}/article")
    assert card is not None and card.state == "failed"
    assert "address" in card.last_error
    assert hits["/article"] == 0


def test_the_first_link_skips_mentions_hashtags_media_and_this_instance() -> None:
    html = (
        '<p><a href="https://a.example/tags/x" class="mention hashtag" rel="tag">#<span>x</span></a>'
        ' <span class="h-card"><a href="https://b.example/@bob" class="u-url mention">@bob</a></span>'
        ' <a href="https://local.test/@me">me</a>'
        ' <a href="https://files.example/photo.jpg">photo</a>'
        ' <a href="ftp://old.example/">ftp</a>'
        ' <a href="https://news.example/story?id=1#top">story</a>'
        ' <a href="https://later.example/">later</a></p>'
    )
    found = first_link(
        html, local_host="local.test", skip_urls=frozenset({"https://files.example/photo.jpg"})
    )
    assert found == "https://news.example/story?id=1"
    assert first_link("<p>no links</p>", local_host="local.test", skip_urls=frozenset()) is None


async def test_streams_send_the_status_again_when_its_card_arrives(
    aiohttp_client: Any, config: Config, tmp_path: Path, site: tuple[str, Counter[str]]
) -> None:
    base, _ = site
    rig = await make_rig(aiohttp_client, _config(config), tmp_path)
    alice = await rig.user("alice")
    ws = await rig.client.ws_connect(
        f"/api/v1/streaming?access_token={alice.token}&stream=public"
    )
    # The article answers only once the status's first event was seen: a card fetched
    # faster than the stream's event is rendered would already be in it.
    gate = _GATES["/gated-article"] = asyncio.Event()
    try:
        status = await _post(alice, f"read {base}/gated-article")
        seen: list[tuple[str, Any]] = []

        async def receive() -> None:
            msg = await asyncio.wait_for(ws.receive(), 10.0)
            event = orjson.loads(msg.data)
            seen.append((event["event"], orjson.loads(event["payload"])))

        await receive()
        assert seen[0][0] == "update" and seen[0][1]["card"] is None
        gate.set()
        await _settle(rig.client)
        while not any(name == "status.update" for name, _ in seen):
            await receive()
    finally:
        gate.set()
        del _GATES["/gated-article"]
    updated = next(p for name, p in seen if name == "status.update")
    assert updated["id"] == status["id"]
    assert updated["card"]["title"] == "سلام دنیا — an article"
    await ws.close()


async def test_a_reject_media_domain_gets_no_card(
    aiohttp_client: Any, config: Config, tmp_path: Path, site: tuple[str, Counter[str]]
) -> None:
    base, hits = site
    block = DomainBlock(domain="127.0.0.1", severity="noop", reject_media=True)
    config = dataclasses.replace(
        _config(config), policy=dataclasses.replace(config.policy, domain_blocks=(block,))
    )
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    status = await _post(alice, f"read {base}/article")
    await _settle(rig.client)
    assert await alice.call("GET", f"/api/v1/statuses/{status['id']}/card") == {}
    card = await rig.store.preview_cards.by_url(f"{base}/article")
    assert card is not None and card.state == "failed"
    assert hits["/article"] == 0


async def test_a_local_status_left_by_a_crash_still_gets_its_card(
    aiohttp_client: Any, config: Config, tmp_path: Path, site: tuple[str, Counter[str]]
) -> None:
    base, _ = site
    rig = await make_rig(aiohttp_client, _config(config), tmp_path)
    alice = await rig.user("alice")
    link = f"{base}/article"
    # Stored with its side effects owed, as if the process died right after the write.
    status = await rig.store.statuses.create(
        NewStatus(
            account_id=alice.account.id,
            local=True,
            content=f'<p><a href="{link}">{link}</a></p>',
            text=link,
            visibility="public",
            pending_effects=True,
        ),
        uri_template=Urls(rig.config.base_url).status_template("alice"),
    )
    await rig.client.app[appkeys.FEDERATION].processor.effects.complete(status.id, "created")
    await _settle(rig.client)
    card = await alice.call("GET", f"/api/v1/statuses/{status.id}/card")
    assert card["url"] == link and card["title"] == "سلام دنیا — an article"


async def test_a_link_to_the_status_s_own_attachment_gets_no_card(
    aiohttp_client: Any, config: Config, tmp_path: Path, site: tuple[str, Counter[str]]
) -> None:
    base, hits = site
    rig = await make_rig(aiohttp_client, _config(config), tmp_path)
    alice = await rig.user("alice")
    photo, link = f"{base}/images/cover.png", f"{base}/article"
    media = await rig.store.media.create(
        NewMedia(account_id=alice.account.id, type="image", remote_url=photo)
    )
    # The photo is linked first (as some servers write a note's attachments into its text).
    status = await rig.store.statuses.create(
        NewStatus(
            account_id=alice.account.id,
            local=True,
            content=f'<p><a href="{photo}">{photo}</a> <a href="{link}">{link}</a></p>',
            text=f"{photo} {link}",
            visibility="public",
            media_ids=[media.id],
        ),
        uri_template=Urls(rig.config.base_url).status_template("alice"),
    )
    await queue_card(rig.store, rig.config, status, new=True)
    await _settle(rig.client)
    card = await alice.call("GET", f"/api/v1/statuses/{status.id}/card")
    assert card["url"] == link
    assert hits["/article"] == 1
