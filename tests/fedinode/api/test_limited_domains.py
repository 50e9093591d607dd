"""A silence (or suspend, or timeline removal) also hides posts cached before the block."""

from __future__ import annotations

from typing import Any

from fedinode import appkeys
from fedinode.app import create_app
from fedinode.config import Config
from storage.accounts import NewAccount
from storage.statuses import NewStatus


async def _public_ids(client: Any, path: str) -> list[str]:
    resp = await client.get(path)
    assert resp.status == 200, await resp.text()
    return [s["id"] for s in await resp.json()]


async def test_silenced_domain_leaves_public_and_tag_timelines(
    aiohttp_client: Any, config: Config
) -> None:
    client = await aiohttp_client(create_app(config))
    store = client.app[appkeys.STORE]
    gate = client.app[appkeys.POLICY]
    loud = await store.accounts.create(
        NewAccount(username="loud", domain="loud.example", uri="https://loud.example/u/loud")
    )
    calm = await store.accounts.create(
        NewAccount(username="calm", domain="calm.example", uri="https://calm.example/u/calm")
    )
    loud_post = await store.statuses.create(
        NewStatus(
            account_id=loud.id,
            local=False,
            uri="https://loud.example/s/1",
            content="<p>#news</p>",
            tags=["news"],
        )
    )
    calm_post = await store.statuses.create(
        NewStatus(
            account_id=calm.id,
            local=False,
            uri="https://calm.example/s/1",
            content="<p>#news</p>",
            tags=["news"],
        )
    )
    both = [str(calm_post.id), str(loud_post.id)]
    assert await _public_ids(client, "/api/v1/timelines/public") == both
    assert await _public_ids(client, "/api/v1/timelines/tag/news") == both

    await store.policy.create_domain_block("loud.example", severity="silence")
    await gate.refresh()
    assert await _public_ids(client, "/api/v1/timelines/public") == [str(calm_post.id)]
    assert await _public_ids(client, "/api/v1/timelines/public?remote=true") == [str(calm_post.id)]
    assert await _public_ids(client, "/api/v1/timelines/tag/news") == [str(calm_post.id)]
    # the post itself stays reachable (silence is not suspension)
    assert (await client.get(f"/api/v1/statuses/{loud_post.id}")).status == 200

    block = (await store.policy.domain_blocks())[0]
    await store.policy.delete_domain_block(block.id)
    await gate.refresh()
    assert await _public_ids(client, "/api/v1/timelines/public") == both


async def test_silenced_or_suspended_account_leaves_the_tag_timeline(
    aiohttp_client: Any, config: Config
) -> None:
    """As in the public timeline (and Mastodon's TagFeed, a PublicFeed): an account an admin
    silenced or suspended is not shown in a hashtag timeline."""
    client = await aiohttp_client(create_app(config))
    store = client.app[appkeys.STORE]
    posts = {}
    for name in ("loud", "calm", "gone"):
        account = await store.accounts.create(
            NewAccount(username=name, domain="peer.example", uri=f"https://peer.example/u/{name}")
        )
        posts[name] = await store.statuses.create(
            NewStatus(
                account_id=account.id,
                local=False,
                uri=f"https://peer.example/s/{name}",
                content="<p>#news</p>",
                tags=["news"],
            )
        )
    assert len(await _public_ids(client, "/api/v1/timelines/tag/news")) == 3
    await store.accounts.update(posts["loud"].account_id, silenced=True)
    await store.accounts.update(posts["gone"].account_id, suspended=True)
    assert await _public_ids(client, "/api/v1/timelines/tag/news") == [str(posts["calm"].id)]
    assert await _public_ids(client, "/api/v1/timelines/public") == [str(posts["calm"].id)]
