"""A link in a post from a peer gets a preview card at the receiver, its image served by the
receiver."""

from __future__ import annotations

import io

from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image

from federation.conftest import InstanceFactory, eventually
from fedinode.api.schemas import status_to_api
from fedinode.preview_cards import CARD_WORKER
from fedinode.remote_media import MEDIA_CACHE_WORKER
from fedinode.services.views import load_status_view
from storage.statuses import NewStatus

PAGE = """<html><head><meta property="og:title" content="Peer news">
<meta property="og:image" content="/cover.png"></head></html>"""


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 20, 20)).save(out, "PNG")
    return out.getvalue()


async def test_a_remote_post_with_a_link_gets_a_card_with_a_local_image(
    instances: InstanceFactory, backend: str
) -> None:
    async def page(request: web.Request) -> web.Response:
        if request.path == "/cover.png":
            return web.Response(body=_png(), content_type="image/png")
        return web.Response(text=PAGE, content_type="text/html")

    site_app = web.Application()
    site_app.router.add_get("/{tail:.*}", page)
    site = TestServer(site_app, host="127.0.0.1")
    await site.start_server()
    try:
        a = await instances("a", backend=backend)
        b = await instances("b", backend="sqlite" if backend == "postgres" else "postgres")
        alice = await a.user("alice")
        bob = await b.user("bob")
        alice_on_b = await b.follow(bob, f"alice@{a.domain}")
        await eventually(
            lambda: b.store.relationships.get_follow(bob.id, alice_on_b.id), what="accept"
        )
        link = f"http://127.0.0.1:{site.port}/story"
        status = await a.store.statuses.create(
            NewStatus(
                account_id=alice.id,
                local=True,
                content=f'<p>read <a href="{link}">{link}</a></p>',
                text=f"read {link}",
                visibility="public",
            ),
            uri_template=a.urls.status_template(alice.username),
        )
        await a.fed.outbox.status_created(status)
        arrived = await eventually(lambda: b.store.statuses.by_uri(status.uri), what="the post")

        async def card_image() -> str | None:
            await b.app[CARD_WORKER].drain()  # type: ignore[index]
            await b.app[MEDIA_CACHE_WORKER].drain()  # type: ignore[index]
            found = await b.store.statuses.get(arrived.id)
            assert found is not None
            card = status_to_api(await load_status_view(b.store, found, None), b.config, None)[
                "card"
            ]
            return card["image"] if card is not None and card["image"] else None

        image = await eventually(card_image, what="the card and its image")
        assert image.startswith(f"{b.config.base_url}/media/cache/cards/")
        found = await b.store.statuses.get(arrived.id)
        assert found is not None
        card = status_to_api(await load_status_view(b.store, found, None), b.config, None)["card"]
        assert card is not None and card["title"] == "Peer news" and card["url"] == link
    finally:
        await site.close()
