"""The instance actor (a local account without a user) is nobody people find or count."""

from __future__ import annotations

from api_helpers import Api

from activitypub.federation import INSTANCE_ACTOR_USERNAME
from fedinode import appkeys


async def test_instance_actor_is_not_listed_or_counted(api: Api) -> None:
    fed = api.client.app[appkeys.FEDERATION]
    actor = fed.instance_actor()
    assert actor.username == INSTANCE_ACTOR_USERNAME and actor.local
    admin = await api.user(
        "instance_admin", admin=True, scopes="read write follow admin:read admin:write"
    )
    await api.user("instancefan")

    found = await admin.json("get", "/api/v1/accounts/search", params={"q": "instance"})
    assert sorted(a["username"] for a in found) == ["instance_admin", "instancefan"]
    found = await admin.json(
        "get", "/api/v1/accounts/search", params={"q": api.config.instance.title}
    )
    assert all(a["id"] != str(actor.id) for a in found)
    results = await admin.json("get", "/api/v2/search", params={"q": "actor", "type": "accounts"})
    assert results["accounts"] == []
    for exact in (
        "instance.actor",
        "@instance.actor",
        f"instance.actor@{api.config.instance.domain}",
    ):
        results = await admin.json("get", "/api/v2/search", params={"q": exact})
        assert results["accounts"] == [], exact

    assert [a.username for a in await api.store.accounts.list_local()] == [
        "instance_admin",
        "instancefan",
    ]
    assert actor.id not in {a.id for a in await api.store.accounts.list_filtered(local=True)}

    instance = await api.anon("/api/v1/instance")
    assert instance["stats"]["user_count"] == 2
    nodeinfo = await api.anon("/nodeinfo/2.0")
    assert nodeinfo["usage"]["users"]["total"] == 2
    accounts = await admin.json("get", "/api/v2/admin/accounts", params={"origin": "local"})
    assert sorted(a["username"] for a in accounts) == ["instance_admin", "instancefan"]
    suggestions = await admin.json("get", "/api/v2/suggestions")
    assert all(s["account"]["id"] != str(actor.id) for s in suggestions)
