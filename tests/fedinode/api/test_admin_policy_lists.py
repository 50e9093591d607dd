"""The admin API of shared policy lists: access, bad input as clear 4xx, what is published
and how the public list and CSV read."""

from __future__ import annotations

import pytest
from api_helpers import Actor, Api

from activitypub.integrity import verify
from activitypub.keys import parse_multikey

SUBS = "/api/v1/admin/domain_permission_subscriptions"
DRAFTS = "/api/v1/admin/domain_permission_drafts"


@pytest.fixture
async def admin(api: Api) -> Actor:
    return await api.user("root", admin=True, scopes="read write admin:read admin:write")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", SUBS), ("post", SUBS), ("get", DRAFTS), ("get", "/api/v1/admin/policy/published"),
        ("post", "/api/v1/admin/policy/publish"), ("post", "/api/v1/admin/policy/adopt"),
    ],
)  # fmt: skip
async def test_only_admins(api: Api, method: str, path: str) -> None:
    assert (await getattr(api.client, method)(path)).status == 401
    mallory = await api.user("mallory", scopes="read write admin:read admin:write")
    assert (await getattr(mallory, method)(path, json={})).status == 403


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "uri is required"),
        ({"uri": "ftp://a.example/list"}, "not an http(s) URL"),
        ({"uri": "https://a.example/l.json", "mode": "sometimes"}, "mode"),
        ({"uri": "https://a.example/l.json", "priority": 300}, "priority"),
        ({"uri": "https://a.example/l.json", "severities": ["ban"]}, "severities"),
        ({"uri": "https://a.example/l.json", "excludes": ["not a domain"]}, "excludes"),
    ],
)
async def test_bad_subscriptions_are_422(
    admin: Actor, body: dict[str, object], message: str
) -> None:
    found = await admin.json("post", SUBS, 422, json=body)
    assert message in found["error"]


async def test_subscription_crud_and_missing_ids(admin: Actor) -> None:
    made = await admin.json("post", SUBS, json={"uri": "https://a.example/l.json", "as_draft": True,
                                                 "excludes": ["*.Friends.example"]})  # fmt: skip
    assert (
        made["mode"] == "review" and made["as_draft"] and made["excludes"] == ["*.friends.example"]
    )
    assert made["created_by"] == "api" and made["fetched_at"] is None
    again = await admin.json("post", SUBS, 422, json={"uri": "https://a.example/l.json"})
    assert "already subscribed" in again["error"]
    changed = await admin.json(
        "patch", f"{SUBS}/{made['id']}", json={"priority": 9, "mode": "apply"}
    )
    assert changed["priority"] == 9 and changed["mode"] == "apply"
    assert [s["id"] for s in await admin.json("get", SUBS)] == [made["id"]]
    assert (await admin.json("get", f"{SUBS}/{made['id']}"))["uri"] == "https://a.example/l.json"
    await admin.json("delete", f"{SUBS}/{made['id']}")
    for method, path in (("get", f"{SUBS}/{made['id']}"), ("post", f"{SUBS}/1/sync"),
                         ("post", f"{SUBS}/abc/test"), ("post", f"{DRAFTS}/5/accept")):  # fmt: skip
        assert (await getattr(admin, method)(path)).status == 404, path


async def test_publishing_chooses_what_the_list_carries(api: Api, admin: Actor) -> None:
    await admin.json("post", "/api/v1/admin/domain_blocks",
                     json={"domain": "spam.example", "severity": "suspend", "published": True,
                           "private_comment": "never published"})  # fmt: skip
    await admin.json("post", "/api/v1/admin/domain_blocks", json={"domain": "quiet.example"})
    await admin.json("post", "/api/v1/admin/domain_allows", json={"domain": "friend.example",
                                                                  "published": True})  # fmt: skip
    missing = await admin.json("post", "/api/v1/admin/policy/publish", 422,
                               json={"domain": "nowhere.example"})  # fmt: skip
    assert "no domain block for nowhere.example" in missing["error"]
    bad = await admin.json("post", "/api/v1/admin/policy/publish", 422,
                           json={"domain": "x.example", "permission_type": "mute"})  # fmt: skip
    assert "kind" in bad["error"]
    published = await admin.json("get", "/api/v1/admin/policy/published")
    assert {(e["permission_type"], e["domain"]) for e in published} == {
        ("block", "spam.example"), ("allow", "friend.example")
    }  # fmt: skip

    resp = await api.client.get("/policy/list.json")
    doc = await resp.json()
    assert resp.status == 200 and "never published" not in await resp.text()
    assert [b["domain"] for b in doc["blocks"]] == ["spam.example"]
    assert doc["allows"] == [{"domain": "friend.example", "public_comment": ""}]
    actor = await (
        await api.client.get("/actor", headers={"Accept": "application/activity+json"})
    ).json(content_type=None)
    (method,) = actor["assertionMethod"]
    assert verify(doc, parse_multikey(method["publicKeyMultibase"]))
    csv = await (await api.client.get("/policy/list.csv/")).text()  # a trailing slash works too
    assert csv == (
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
        "spam.example,suspend,false,false,,false\n"
    )
    await admin.json("post", "/api/v1/admin/policy/unpublish", json={"all": True})
    assert (await (await api.client.get("/policy/list.json")).json())["blocks"] == []


async def test_an_admins_own_block_is_never_a_lists(api: Api, admin: Actor) -> None:
    """A block the admin makes (or edits) is the admin's, even where a list once had it."""
    sub = await api.store.policy_lists.create_subscription("https://a.example/l.json")
    await api.store.policy_lists.set_mark("block", "was-listed.example", subscription_id=sub.id)
    made = await admin.json(
        "post", "/api/v1/admin/domain_blocks", json={"domain": "was-listed.example"}
    )
    mark = await api.store.policy_lists.mark("block", "was-listed.example")
    assert mark is not None and mark.subscription_id is None and not mark.published
    await api.store.policy_lists.set_mark("block", "was-listed.example", subscription_id=sub.id)
    await admin.json("put", f"/api/v1/admin/domain_blocks/{made['id']}", json={"published": True})
    mark = await api.store.policy_lists.mark("block", "was-listed.example")
    assert mark is not None and mark.subscription_id is None and mark.published
