"""A hostile app (a valid token for mallory) guessing the ids of alice's private things.

Every per-owner object (notifications, lists, filters, media, conversations, polls of
private statuses, status edits) answers another user 404 and stays unchanged; admin
endpoints answer non-admins 403 whatever scopes their token holds.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from security.rig import Actor, Api


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(out, "PNG")
    return out.getvalue()


async def _alice_things(api: Api) -> tuple[Actor, Actor, dict[str, Any]]:
    alice = await api.user("alice")
    mia = await api.user("mia")
    mallory = await api.user("mallory", scopes="read write follow push")
    things: dict[str, Any] = {}
    things["private"] = await alice.status("followers only", visibility="private")
    things["direct"] = await alice.status("psst @mia", visibility="direct")
    things["poll"] = await alice.status(
        "secret poll", visibility="private", poll={"options": ["a", "b"], "expires_in": 3600}
    )
    await mia.json("post", f"/api/v1/accounts/{alice.id}/follow")
    notes = await alice.json("get", "/api/v1/notifications")
    assert notes, "alice has a notification"
    things["notification"] = notes[0]["id"]
    things["list"] = (await alice.json("post", "/api/v1/lists", json={"title": "mine"}))["id"]
    f2 = await alice.json("post", "/api/v2/filters", json={
        "title": "f", "context": ["home"], "keywords_attributes": [{"keyword": "secret"}]})  # fmt: skip
    things["filter"] = f2["id"]
    things["keyword"] = f2["keywords"][0]["id"]
    things["filter_v1"] = (await alice.json("post", "/api/v1/filters", json={
        "phrase": "hidden", "context": ["home"]}))["id"]  # fmt: skip
    resp = await alice.post("/api/v2/media", data={"file": _png()})
    assert resp.status == 200, await resp.text()
    things["media"] = (await resp.json())["id"]
    convs = await mia.json("get", "/api/v1/conversations")
    things["conversation"] = convs[0]["id"] if convs else "1"
    return alice, mallory, things


async def test_guessed_ids_of_another_users_things_are_404(api: Api) -> None:
    alice, mallory, t = await _alice_things(api)
    private, direct, poll = t["private"]["id"], t["direct"]["id"], t["poll"]
    attempts = [
        ("get", f"/api/v1/statuses/{private}"),
        ("get", f"/api/v1/statuses/{direct}"),
        ("get", f"/api/v1/statuses/{private}/context"),
        ("get", f"/api/v1/statuses/{private}/history"),
        ("get", f"/api/v1/statuses/{private}/source"),
        ("get", f"/api/v1/statuses/{private}/reblogged_by"),
        ("get", f"/api/v1/statuses/{direct}/favourited_by"),
        ("post", f"/api/v1/statuses/{private}/favourite"),
        ("post", f"/api/v1/statuses/{private}/bookmark"),
        ("post", f"/api/v1/statuses/{private}/mute"),
        ("post", f"/api/v1/statuses/{private}/pin"),
        ("put", f"/api/v1/statuses/{private}"),
        ("delete", f"/api/v1/statuses/{private}"),
        ("get", f"/api/v1/polls/{poll['poll']['id']}"),
        ("post", f"/api/v1/polls/{poll['poll']['id']}/votes"),
        ("get", f"/api/v1/notifications/{t['notification']}"),
        ("post", f"/api/v1/notifications/{t['notification']}/dismiss"),
        ("get", f"/api/v1/lists/{t['list']}"),
        ("put", f"/api/v1/lists/{t['list']}"),
        ("get", f"/api/v1/lists/{t['list']}/accounts"),
        ("post", f"/api/v1/lists/{t['list']}/accounts"),
        ("get", f"/api/v1/timelines/list/{t['list']}"),
        ("delete", f"/api/v1/lists/{t['list']}"),
        ("get", f"/api/v2/filters/{t['filter']}"),
        ("put", f"/api/v2/filters/{t['filter']}"),
        ("get", f"/api/v2/filters/{t['filter']}/keywords"),
        ("post", f"/api/v2/filters/{t['filter']}/keywords"),
        ("get", f"/api/v2/filters/keywords/{t['keyword']}"),
        ("put", f"/api/v2/filters/keywords/{t['keyword']}"),
        ("delete", f"/api/v2/filters/keywords/{t['keyword']}"),
        ("get", f"/api/v2/filters/{t['filter']}/statuses"),
        ("delete", f"/api/v2/filters/{t['filter']}"),
        ("get", f"/api/v1/filters/{t['filter_v1']}"),
        ("put", f"/api/v1/filters/{t['filter_v1']}"),
        ("delete", f"/api/v1/filters/{t['filter_v1']}"),
        ("get", f"/api/v1/media/{t['media']}"),
        ("put", f"/api/v1/media/{t['media']}"),
        ("delete", f"/api/v1/media/{t['media']}"),
        ("post", f"/api/v1/conversations/{t['conversation']}/read"),
        ("delete", f"/api/v1/conversations/{t['conversation']}"),
    ]
    bodies = {
        "put": {"status": "pwned", "title": "pwned", "phrase": "pwned", "keyword": "pwned",
                "description": "pwned", "context": ["home"]},
        "post": {"account_ids": [mallory.id], "choices": [0], "keyword": "pwned"},
    }  # fmt: skip
    leaks = []
    for method, path in attempts:
        kw = {"json": bodies[method]} if method in bodies else {}
        resp = await getattr(mallory, method)(path, **kw)
        text = await resp.text()
        # Dismissing answers 200 whatever the id (like clearing): no oracle; checked below.
        harmless = path.endswith("/dismiss") and resp.status == 200 and text == "{}"
        if (resp.status not in (403, 404) and not harmless) or "pwned" in text or "secret" in text:
            leaks.append((method, path, resp.status, text[:200]))
    assert leaks == []

    # Everything is still there and unchanged for alice.
    assert (await alice.json("get", f"/api/v1/statuses/{private}"))["content"] != "pwned"
    assert (await alice.json("get", f"/api/v1/lists/{t['list']}"))["title"] == "mine"
    assert (await alice.json("get", f"/api/v2/filters/{t['filter']}"))["title"] == "f"
    assert (await alice.json("get", f"/api/v1/filters/{t['filter_v1']}"))["phrase"] == "hidden"
    assert (await alice.json("get", f"/api/v1/media/{t['media']}"))["description"] != "pwned"
    poll_now = await alice.json("get", f"/api/v1/polls/{poll['poll']['id']}")
    assert poll_now["votes_count"] == 0
    assert await alice.json("get", f"/api/v1/notifications/{t['notification']}")


async def test_own_lists_only_hold_accounts_you_follow(api: Api) -> None:
    alice = await api.user("alice")
    mallory = await api.user("mallory")
    mine = await mallory.json("post", "/api/v1/lists", json={"title": "spy"})
    resp = await mallory.post(f"/api/v1/lists/{mine['id']}/accounts",
                              json={"account_ids": [alice.id]})  # fmt: skip
    assert resp.status in (404, 422)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/admin/accounts"),
        ("get", "/api/v2/admin/accounts"),
        ("get", "/api/v1/admin/accounts/1"),
        ("post", "/api/v1/admin/accounts/1/action"),
        ("post", "/api/v1/admin/accounts/1/approve"),
        ("post", "/api/v1/admin/accounts/1/unsuspend"),
        ("get", "/api/v1/admin/reports"),
        ("post", "/api/v1/admin/reports/1/resolve"),
        ("get", "/api/v1/admin/domain_blocks"),
        ("post", "/api/v1/admin/domain_blocks"),
        ("delete", "/api/v1/admin/domain_blocks/1"),
        ("get", "/api/v1/admin/domain_allows"),
        ("post", "/api/v1/admin/domain_allows"),
        ("get", "/api/v1/admin/domain_blocks/export"),
        ("post", "/api/v1/admin/domain_blocks/import"),
        ("get", "/api/v1/admin/policy"),
        ("get", "/api/v1/admin/policy/decisions"),
    ],
)
async def test_admin_endpoints_refuse_non_admins_even_with_admin_scopes(
    api: Api, method: str, path: str
) -> None:
    mallory = await api.user("mallory", scopes="read write admin:read admin:write")
    resp = await getattr(mallory, method)(path, json={"domain": "victim.example"})
    assert resp.status == 403, (path, resp.status, await resp.text())


async def test_app_token_without_user_cannot_act_as_anyone(api: Api) -> None:
    from security.rig import register

    app = await register(api, scopes="read write")
    resp = await api.client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": "read write"})  # fmt: skip
    token = (await resp.json())["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in (("get", "/api/v1/accounts/verify_credentials"),
                         ("get", "/api/v1/notifications"), ("post", "/api/v1/statuses"),
                         ("get", "/api/v1/timelines/home"), ("get", "/api/v1/bookmarks")):  # fmt: skip
        resp = await getattr(api.client, method)(path, headers=headers, json={"status": "x"})
        assert resp.status in (401, 403, 422), (path, resp.status)
