"""Custom emojis between two instances: an emoji in a post and in a display name arrives at
the peer as an Emoji tag and is shown there from the peer's own media cache."""

from __future__ import annotations

import io

import aiohttp
from PIL import Image

from federation.conftest import InstanceFactory, eventually
from fedinode.api.schemas import account_to_api, status_to_api
from fedinode.remote_media import MEDIA_CACHE_WORKER
from fedinode.services.custom_emojis import add_local_emoji, local_emoji_items
from fedinode.services.views import load_status_view
from storage.statuses import NewStatus


def png() -> bytes:
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    for x in range(16, 48):
        for y in range(16, 48):
            image.putpixel((x, y), (20, 180, 90, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def test_an_emoji_in_a_post_and_a_name_arrives_with_a_local_url(
    instances: InstanceFactory, backend: str
) -> None:
    a = await instances("a", backend=backend)
    b = await instances("b", backend="sqlite" if backend == "postgres" else "postgres")
    alice = await a.user("alice")
    bob = await b.user("bob")
    emoji = await add_local_emoji(a.store, a.config, "blobcat", png())
    name_emojis = await local_emoji_items(a.store, a.config, "Alice :blobcat:")
    alice = await a.store.accounts.update(
        alice.id, display_name="Alice :blobcat:", emojis=name_emojis
    )

    alice_on_b = await b.follow(bob, f"alice@{a.domain}")
    await eventually(
        lambda: b.store.relationships.get_follow(bob.id, alice_on_b.id), what="accept"
    )
    text = "look :blobcat:"
    status = await a.store.statuses.create(
        NewStatus(
            account_id=alice.id,
            local=True,
            content=f"<p>{text}</p>",
            text=text,
            visibility="public",
            emojis=await local_emoji_items(a.store, a.config, text),
        ),
        uri_template=a.urls.status_template(alice.username),
    )
    await a.fed.outbox.status_created(status)

    arrived = await eventually(lambda: b.store.statuses.by_uri(status.uri), what="the post")
    # The peer names the origin's image in the Emoji tag...
    assert [(e["shortcode"], e["url"]) for e in arrived.emojis] == [
        ("blobcat", f"{a.config.base_url}/media/{emoji.file_path}")
    ]

    # ... and shows its own copy once the worker has fetched it.
    b_base = b.config.base_url

    async def cached() -> bool:
        await b.app[MEDIA_CACHE_WORKER].drain()  # type: ignore[index]
        found = await b.store.statuses.get(arrived.id)
        return found is not None and any("file" in e for e in found.emojis)

    await eventually(cached, what="the emoji in the cache")
    fresh = await b.store.statuses.get(arrived.id)
    assert fresh is not None
    view = await load_status_view(b.store, fresh, None)
    shown = status_to_api(view, b.config, None)
    assert len(shown["emojis"]) == 1
    url = shown["emojis"][0]["url"]
    assert url.startswith(f"{b_base}/media/cache/emojis/"), url
    assert shown["emojis"][0]["static_url"].startswith(f"{b_base}/media/cache/emojis/")
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200
        served = Image.open(io.BytesIO(await resp.read()))
        assert served.size == (64, 64)

    author = await b.store.accounts.get(arrived.account_id)
    assert author is not None
    account = account_to_api(author, b_base)
    assert account["display_name"] == "Alice :blobcat:"
    assert [e["url"].startswith(f"{b_base}/media/cache/emojis/") for e in account["emojis"]] == [
        True
    ]
    # The peer keeps the emoji as a remote one, not offered in its own picker.
    remote = await b.store.custom_emojis.listed(local_only=False)
    assert [(e.shortcode, e.domain, bool(e.file_path)) for e in remote] == [
        ("blobcat", a.domain, True)
    ]
    assert await b.store.custom_emojis.listed(local_only=True) == []


async def test_a_reject_media_peer_s_emoji_is_not_fetched(
    instances: InstanceFactory, backend: str
) -> None:
    a = await instances("a", backend=backend)
    b = await instances(
        "b",
        backend=backend,
        policy={
            "domain_blocks": [{"domain": "127.0.0.1", "severity": "noop", "reject_media": True}]
        },
    )
    alice = await a.user("alice")
    bob = await b.user("bob")
    emoji = await add_local_emoji(a.store, a.config, "blobcat", png())
    alice_on_b = await b.follow(bob, f"alice@{a.domain}")
    await eventually(
        lambda: b.store.relationships.get_follow(bob.id, alice_on_b.id), what="accept"
    )
    text = "look :blobcat:"
    status = await a.store.statuses.create(
        NewStatus(
            account_id=alice.id,
            local=True,
            content=f"<p>{text}</p>",
            text=text,
            visibility="public",
            emojis=await local_emoji_items(a.store, a.config, text),
        ),
        uri_template=a.urls.status_template(alice.username),
    )
    await a.fed.outbox.status_created(status)
    arrived = await eventually(lambda: b.store.statuses.by_uri(status.uri), what="the post")

    async def refused() -> bool:
        await b.app[MEDIA_CACHE_WORKER].drain()  # type: ignore[index]
        rows = await b.store.custom_emojis.listed(local_only=False)
        if not rows:
            return False
        item = await b.store.media_cache.get("emoji", rows[0].id)
        return item is not None and item.state == "refused"

    await eventually(refused, what="the emoji refused by the policy")
    fresh = await b.store.statuses.get(arrived.id)
    assert fresh is not None
    shown = status_to_api(await load_status_view(b.store, fresh, None), b.config, None)
    assert [e["url"] for e in shown["emojis"]] == [f"{a.config.base_url}/media/{emoji.file_path}"]
