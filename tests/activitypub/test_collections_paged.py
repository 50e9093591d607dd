"""The replies collection of a note pages (first embedded, next links); featured tags are a
collection of Hashtags linked from the actor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from federation.conftest import Instance, free_port

AP = "application/activity+json"


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[Instance]:
    instance = Instance("home", free_port(), f"sqlite:///{tmp_path}/h.sqlite3", tmp_path)
    await instance.start()
    yield instance
    await instance.stop()


async def _get(home: Instance, url: str) -> tuple[int, Any]:
    if url.startswith("/"):
        url = f"http://{home.domain}{url}"
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={"Accept": AP}) as r:
            return r.status, await r.json(content_type=None)


async def test_replies_collection_pages(home: Instance) -> None:
    alice = await home.user("alice")
    bob = await home.user("bob")
    post = await home.post(alice, "ask me anything")
    replies = [await home.post(bob, f"reply {i}", in_reply_to=post) for i in range(23)]
    await home.post(bob, "a private reply", in_reply_to=post, visibility="private")
    await home.post(bob, "a reply to a reply", in_reply_to=replies[0])

    status, collection = await _get(home, f"/users/alice/statuses/{post.id}/replies")
    assert status == 200 and collection["type"] == "OrderedCollection"
    assert collection["totalItems"] == 23
    first = collection["first"]
    assert first["type"] == "OrderedCollectionPage" and first["partOf"] == collection["id"]
    seen = list(first["orderedItems"])
    assert len(seen) == 20
    status, second = await _get(home, first["next"])
    assert status == 200 and "next" not in second
    seen += second["orderedItems"]
    assert seen == [r.uri for r in replies]

    status, actor = await _get(home, "/users/alice")
    assert status == 200 and actor["featuredTags"].endswith("/users/alice/collections/tags")


async def test_featured_tags_collection(home: Instance) -> None:
    alice = await home.user("alice")
    await home.post(alice, "about #Fediverse", tags=("fediverse",))
    await home.store.tags.feature_tag(alice.id, "Fediverse")
    await home.store.tags.feature_tag(alice.id, "سلام")
    status, actor = await _get(home, "/users/alice")
    status, tags = await _get(home, actor["featuredTags"])
    assert status == 200 and tags["type"] == "Collection" and tags["totalItems"] == 2
    assert [t["type"] for t in tags["items"]] == ["Hashtag", "Hashtag"]
    assert tags["items"][0]["href"] == f"http://{home.domain}/tags/fediverse"
    assert {t["name"].lower() for t in tags["items"]} == {"#fediverse", "#سلام"}
    status, instance_actor = await _get(home, "/actor")
    assert "featuredTags" not in instance_actor
    assert (await _get(home, "/users/nobody/collections/tags"))[0] == 404
