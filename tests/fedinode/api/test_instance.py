from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from activitypub.urls import Urls
from fedinode import appkeys
from fedinode.app import create_app
from fedinode.config import Config
from fedinode.services.users import create_local_user
from storage.statuses import NewStatus

ClientFactory = Any


async def test_instance_v1_v2_and_nodeinfo_count_real_data(
    aiohttp_client: ClientFactory, config: Config
) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(create_app(config))
    store = client.app[appkeys.STORE]
    _, alice = await create_local_user(
        store, Urls(config.base_url), username="alice", email="a@x.org", password="password1"
    )
    await store.statuses.create(
        NewStatus(account_id=alice.id, local=True, content="<p>hi</p>"),
        uri_template=alice.uri + "/statuses/{id}",
    )

    for path in ("/api/v1/instance", "/api/v1/instance/"):
        resp = await client.get(path)
        assert resp.status == 200
        v1 = await resp.json()
        assert v1["uri"] == "local.test"
        assert v1["stats"] == {"user_count": 1, "status_count": 1, "domain_count": 0}
        assert v1["version"].startswith("4.3.0 (compatible; fedinode ")
    for path in ("/api/v2/instance", "/api/v2/instance/"):
        v2 = await (await client.get(path)).json()
        assert v2["domain"] == "local.test"
        assert v2["configuration"]["statuses"]["max_characters"] == config.instance.max_status_chars
        assert v2["configuration"]["polls"]["max_options"] == config.instance.max_poll_options

    discovery = await (await client.get("/.well-known/nodeinfo")).json()
    hrefs = sorted(link["href"] for link in discovery["links"])
    assert hrefs == ["https://local.test/nodeinfo/2.0", "https://local.test/nodeinfo/2.1"]
    for version in ("2.0", "2.1"):
        doc = await (await client.get(f"/nodeinfo/{version}")).json()
        assert doc["version"] == version
        assert doc["software"]["name"] == "fedinode"
        assert doc["usage"]["users"]["total"] == 1
        assert doc["usage"]["localPosts"] == 1
        assert doc["metadata"]["federation"]["mode"] == "open"


async def test_errors_are_mastodon_json(aiohttp_client: ClientFactory, config: Config) -> None:
    client = await aiohttp_client(create_app(config))
    resp = await client.get("/api/v1/does-not-exist")
    assert resp.status == 404
    assert await resp.json() == {"error": "Not Found"}
    resp = await client.get("/nodeinfo/9.9")
    assert resp.status == 404
    assert "error" in await resp.json()
    assert resp.headers["X-Request-Id"]
