"""Admin API for the federation policy: domain blocks, allows, decisions, CSV, preview."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from aiohttp import FormData
from api_helpers import Actor, Api

from fedinode import appkeys
from policy.audit import Decision
from policy.pipeline import obfuscate_domain
from storage.accounts import NewAccount
from storage.models import Account

BLOCKS = "/api/v1/admin/domain_blocks"
ALLOWS = "/api/v1/admin/domain_allows"
DECISIONS = "/api/v1/admin/policy/decisions"


@pytest.fixture
async def admin(api: Api) -> Actor:
    return await api.user("root", admin=True, scopes="read write admin:read admin:write")


async def remote(api: Api, username: str, domain: str) -> Account:
    return await api.store.accounts.create(
        NewAccount(
            username=username,
            domain=domain,
            uri=f"https://{domain}/users/{username}",
            inbox_url=f"https://{domain}/users/{username}/inbox",
        )
    )


# -- access ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("get", BLOCKS, "admin:read:domain_blocks"),
        ("post", BLOCKS, "admin:write:domain_blocks"),
        ("get", ALLOWS, "admin:read:domain_allows"),
        ("post", ALLOWS, "admin:write:domain_allows"),
        ("get", DECISIONS, "admin:read"),
        ("get", "/api/v1/admin/policy", "admin:read"),
        ("get", BLOCKS + "/export", "admin:read:domain_blocks"),
        ("get", BLOCKS + "/preview?domain=x.test", "admin:read:domain_blocks"),
    ],
)
async def test_access_needs_admin_user_and_scope(
    api: Api, method: str, path: str, scope: str
) -> None:
    body = {"domain": "x.test"} if method == "post" else None
    # no token
    resp = await getattr(api.client, method)(path, json=body)
    assert resp.status == 401
    # a user who is not an admin, with every admin scope: 403
    mallory = await api.user("mallory", scopes="read write admin:read admin:write")
    resp = await getattr(mallory, method)(path, json=body)
    assert resp.status == 403
    assert (await resp.json())["error"] == "This action is not allowed"
    # an admin whose token lacks the scope: 403
    root = await api.user("root", admin=True, scopes="read write")
    resp = await getattr(root, method)(path, json=body)
    assert resp.status == 403
    assert "outside the authorized scopes" in (await resp.json())["error"]
    # the exact scope is enough
    exact = await api.token_for(root.account, scopes=scope)
    resp = await getattr(exact, method)(path, json=body)
    assert resp.status == 200, await resp.text()


async def test_read_only_token_cannot_write(api: Api) -> None:
    reader = await api.user("root", admin=True, scopes="admin:read")
    assert (await reader.get(BLOCKS)).status == 200
    for method, path in (
        ("post", BLOCKS),
        ("post", ALLOWS),
        ("post", BLOCKS + "/import"),
    ):
        resp = await getattr(reader, method)(path, json={"domain": "x.test"})
        assert resp.status == 403, path
    # a write token for allows does not write blocks
    allows_only = await api.token_for(reader.account, scopes="admin:write:domain_allows")
    assert (await allows_only.post(BLOCKS, json={"domain": "x.test"})).status == 403
    assert (await allows_only.post(ALLOWS, json={"domain": "x.test"})).status == 200


# -- domain blocks -----------------------------------------------------------------------


async def test_domain_block_crud_applies_at_once(api: Api, admin: Actor) -> None:
    gate = api.client.app[appkeys.POLICY]
    assert gate.pipeline.check_host("spam.test", "inbound").allowed

    block = await admin.json(
        "post",
        BLOCKS,
        json={
            "domain": "Spam.Test.",
            "severity": "suspend",
            "public_comment": "spam network",
            "private_comment": "ticket 12",
            "reject_reports": True,
        },
    )
    assert block["domain"] == "spam.test"
    assert block["digest"] == hashlib.sha256(b"spam.test").hexdigest()
    assert block["severity"] == "suspend"
    assert block["reject_reports"] is True and block["reject_media"] is False
    assert block["public_comment"] == "spam network"
    assert block["private_comment"] == "ticket 12"
    assert block["obfuscate"] is False and block["reject_deletes"] is False
    assert block["created_at"].endswith("Z")
    # in force immediately, in this process
    decision = gate.pipeline.check_host("spam.test", "inbound")
    assert not decision.allowed and decision.rule == "domain_block:spam.test"

    assert await admin.json("get", f"{BLOCKS}/{block['id']}") == block
    assert await admin.json("get", BLOCKS) == [block]

    # form bodies work too, and Mastodon's default severity is silence
    silenced = await admin.json(
        "post", BLOCKS, data={"domain": "loud.test", "reject_media": "true", "obfuscate": "1"}
    )
    assert silenced["severity"] == "silence" and silenced["reject_media"] and silenced["obfuscate"]
    assert gate.pipeline.check_host("loud.test", "inbound").allowed
    assert gate.pipeline.domain_block_for("loud.test") is not None

    # update: only the given fields change
    updated = await admin.json(
        "put", f"{BLOCKS}/{block['id']}", json={"severity": "silence", "followers_only": True}
    )
    assert updated["severity"] == "silence" and updated["followers_only"] is True
    assert updated["public_comment"] == "spam network" and updated["reject_reports"] is True
    assert gate.pipeline.check_host("spam.test", "inbound").allowed

    assert await admin.json("delete", f"{BLOCKS}/{block['id']}") == {}
    assert gate.pipeline.domain_block_for("spam.test") is None
    assert (await admin.get(f"{BLOCKS}/{block['id']}")).status == 404
    assert (await admin.delete(f"{BLOCKS}/{block['id']}")).status == 404
    assert [b["domain"] for b in await admin.json("get", BLOCKS)] == ["loud.test"]

    # every change is in the policy log under rule "admin", naming the admin who made it
    me = (await admin.json("get", "/api/v1/accounts/verify_credentials"))["username"]
    logged = await admin.json("get", DECISIONS + "?rule=admin")
    assert [(d["peer"], d["action"], d["reason"]) for d in logged] == [
        ("spam.test", "unblock", f"DomainBlock removed by {me}"),
        ("spam.test", "silence", f"DomainBlock changed by {me}"),
        ("loud.test", "silence", f"DomainBlock added by {me}"),
        ("spam.test", "suspend", f"DomainBlock added by {me}"),
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "domain is required"),
        ({"domain": "not a domain"}, "invalid domain"),
        ({"domain": "x..test"}, "invalid domain"),
        ({"domain": "x.test:99999"}, "invalid port"),
        ({"domain": "x.test", "severity": "obliterate"}, "severity 'obliterate'"),
        ({"domain": "x.test", "public_comment": "x" * 1001}, "public_comment is too long"),
    ],
)
async def test_bad_block_is_422_and_policy_stays(
    api: Api, admin: Actor, body: dict[str, Any], message: str
) -> None:
    gate = api.client.app[appkeys.POLICY]
    before = gate.pipeline
    resp = await admin.post(BLOCKS, json=body)
    assert resp.status == 422
    assert message in (await resp.json())["error"]
    assert gate.pipeline is before
    assert await api.store.policy.domain_blocks() == []


async def test_duplicate_block_is_422_with_the_existing_one(admin: Actor) -> None:
    first = await admin.json("post", BLOCKS, json={"domain": "dup.test", "severity": "suspend"})
    resp = await admin.post(BLOCKS, json={"domain": "DUP.test"})
    assert resp.status == 422
    body = await resp.json()
    assert "already blocked" in body["error"]
    assert body["existing_domain_block"] == first


async def test_put_cannot_change_domain_or_set_bad_severity(admin: Actor) -> None:
    block = await admin.json("post", BLOCKS, json={"domain": "a.test"})
    resp = await admin.put(f"{BLOCKS}/{block['id']}", json={"domain": "b.test"})
    assert resp.status == 422
    resp = await admin.put(f"{BLOCKS}/{block['id']}", json={"severity": "nuke"})
    assert resp.status == 422
    assert (await admin.json("get", f"{BLOCKS}/{block['id']}"))["severity"] == "silence"
    assert (await admin.put(f"{BLOCKS}/999", json={"severity": "noop"})).status == 404


async def test_wildcard_block_covers_subdomains(api: Api, admin: Actor) -> None:
    await admin.json("post", BLOCKS, json={"domain": "*.spam.test", "severity": "suspend"})
    gate = api.client.app[appkeys.POLICY]
    for host in ("spam.test", "a.spam.test", "b.a.spam.test:8443"):
        assert not gate.pipeline.check_host(host, "fetch").allowed, host
    assert gate.pipeline.check_host("notspam.test", "fetch").allowed


async def test_list_paging_with_link_header(admin: Actor) -> None:
    for n in range(5):
        await admin.json("post", BLOCKS, json={"domain": f"d{n}.test"})
    resp = await admin.get(BLOCKS + "?limit=2")
    page = await resp.json()
    assert [b["domain"] for b in page] == ["d4.test", "d3.test"]
    assert 'rel="next"' in resp.headers["Link"]
    nxt = await admin.json("get", f"{BLOCKS}?limit=2&max_id={page[-1]['id']}")
    assert [b["domain"] for b in nxt] == ["d2.test", "d1.test"]


# -- suspension: preview, severing, purge ------------------------------------------------


async def test_suspend_preview_then_sever_both_ways(api: Api, admin: Actor) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    evil1 = await remote(api, "one", "evil.test")
    evil2 = await remote(api, "two", "sub.evil.test")
    nice = await remote(api, "nice", "nice.test")
    rel = api.store.relationships
    await rel.follow(alice.account.id, evil1.id)
    await rel.follow(alice.account.id, nice.id)
    await rel.follow(evil1.id, alice.account.id)
    await rel.follow(evil2.id, bob.account.id)
    await rel.request(evil1.id, bob.account.id)
    from tests.storage.factories import post

    await post(api.store, evil1, "cached")
    await post(api.store, nice, "kept")

    exact = await admin.json("get", f"{BLOCKS}/preview?domain=evil.test")
    assert exact == {
        "domain": "evil.test",
        "severity": "suspend",
        "domains": ["evil.test"],
        "follows_severed": 1,
        "followers_severed": 1,
        "follow_requests_dropped": 1,
        "cached_statuses": 1,
        "statuses_purged": 0,
    }
    wide = await admin.json("get", f"{BLOCKS}/preview?domain=*.evil.test")
    assert wide["domains"] == ["evil.test", "sub.evil.test"]
    assert (wide["follows_severed"], wide["followers_severed"]) == (1, 2)
    silence = await admin.json("get", f"{BLOCKS}/preview?domain=evil.test&severity=silence")
    assert silence["domains"] == [] and silence["follows_severed"] == 0
    assert (await admin.get(f"{BLOCKS}/preview?domain=bad domain")).status == 422
    # the preview changed nothing
    assert await rel.get_follow(alice.account.id, evil1.id) is not None

    block = await admin.json(
        "post", BLOCKS, json={"domain": "*.evil.test", "severity": "suspend", "purge": True}
    )
    assert block["severed"]["follows_severed"] == 1
    assert block["severed"]["followers_severed"] == 2
    assert block["severed"]["statuses_purged"] == 1
    assert await rel.get_follow(alice.account.id, evil1.id) is None
    assert await rel.get_follow(evil1.id, alice.account.id) is None
    assert await rel.get_follow(evil2.id, bob.account.id) is None
    assert await rel.get_request(evil1.id, bob.account.id) is None
    assert await rel.get_follow(alice.account.id, nice.id) is not None
    assert await api.store.statuses.count_by_domain("evil.test") == 0
    assert await api.store.statuses.count_by_domain("nice.test") == 1
    refreshed = await api.store.accounts.get(alice.account.id)
    assert refreshed is not None and refreshed.following_count == 1

    # an update from silence to suspend severs too
    await rel.follow(alice.account.id, nice.id)
    limited = await admin.json("post", BLOCKS, json={"domain": "nice.test"})
    assert "severed" not in limited
    assert await rel.get_follow(alice.account.id, nice.id) is not None
    changed = await admin.json("put", f"{BLOCKS}/{limited['id']}", json={"severity": "suspend"})
    assert changed["severed"]["follows_severed"] == 1
    assert await rel.get_follow(alice.account.id, nice.id) is None
    # without purge, cached statuses stay
    assert await api.store.statuses.count_by_domain("nice.test") == 1


# -- public list -------------------------------------------------------------------------


async def test_public_domain_blocks_honour_obfuscation(api: Api, admin: Actor) -> None:
    await admin.json(
        "post",
        BLOCKS,
        json={"domain": "spam.example", "severity": "suspend", "public_comment": "spam"},
    )
    await admin.json(
        "post",
        BLOCKS,
        json={
            "domain": "hidden.example",
            "severity": "silence",
            "obfuscate": True,
            "private_comment": "never shown",
        },
    )
    await admin.json("post", BLOCKS, json={"domain": "nothing.example", "severity": "noop"})
    await admin.json(
        "post", BLOCKS, json={"domain": "media.example", "severity": "noop", "reject_media": True}
    )
    for path in ("/api/v1/instance/domain_blocks", "/api/v1/instance/domain_blocks/"):
        public = await api.anon(path)
        assert public == [
            {
                "domain": "spam.example",
                "digest": hashlib.sha256(b"spam.example").hexdigest(),
                "severity": "suspend",
                "comment": "spam",
            },
            {
                "domain": obfuscate_domain("hidden.example"),
                "digest": hashlib.sha256(b"hidden.example").hexdigest(),
                "severity": "silence",
                "comment": None,
            },
            {
                "domain": "media.example",
                "digest": hashlib.sha256(b"media.example").hexdigest(),
                "severity": "noop",
                "comment": None,
            },
        ]
    assert "*" in public[1]["domain"]
    assert "never shown" not in str(public)
    # NodeInfo carries the same public description: mode, blocks, rule kinds
    nodeinfo = await api.anon("/nodeinfo/2.1")
    federation = nodeinfo["metadata"]["federation"]
    assert federation["mode"] == "open"
    domains = [b["domain"] for b in federation["domain_blocks"]]
    assert "spam.example" in domains and "hidden.example" not in domains
    assert "never shown" not in str(federation)
    assert "rule_kinds" in federation


# -- domain allows -----------------------------------------------------------------------


async def test_domain_allow_crud(api: Api, admin: Actor) -> None:
    allow = await admin.json("post", ALLOWS, json={"domain": "Friend.Test"})
    assert allow["domain"] == "friend.test" and allow["id"].isdigit()
    again = await admin.json("post", ALLOWS, data={"domain": "friend.test"})
    assert again == allow  # as Mastodon: the existing allow comes back
    assert await admin.json("get", ALLOWS) == [allow]
    assert await admin.json("get", f"{ALLOWS}/{allow['id']}") == allow
    gate = api.client.app[appkeys.POLICY]
    assert [a.domain for a in gate.settings.domain_allows] == ["friend.test"]
    resp = await admin.post(ALLOWS, json={"domain": "not valid"})
    assert resp.status == 422
    assert await admin.json("delete", f"{ALLOWS}/{allow['id']}") == {}
    assert gate.settings.domain_allows == ()
    assert (await admin.get(f"{ALLOWS}/{allow['id']}")).status == 404
    me = (await admin.json("get", "/api/v1/accounts/verify_credentials"))["username"]
    logged = await admin.json("get", DECISIONS + "?rule=admin")
    assert [(d["action"], d["reason"]) for d in logged] == [
        ("unallow", f"DomainAllow removed by {me}"),
        ("allow", f"DomainAllow added by {me}"),
    ]


async def test_allowlist_mode_allow_and_unallow(aiohttp_client: Any, database_url: str) -> None:
    import dataclasses

    from fedinode.app import create_app
    from policy.settings import settings_from_mapping
    from tests.fedinode.conftest import make_config

    config = make_config(database_url)
    config = dataclasses.replace(
        config,
        federation=dataclasses.replace(config.federation, mode="allowlist"),
        policy=settings_from_mapping("allowlist", {}),
    )
    api = Api(client=await aiohttp_client(create_app(config)), config=config)
    admin = await api.user("root", admin=True, scopes="admin:read admin:write")
    alice = await api.user("alice")
    gate = api.client.app[appkeys.POLICY]
    assert not gate.pipeline.check_host("friend.test", "outbound").allowed

    allow = await admin.json("post", ALLOWS, json={"domain": "friend.test"})
    assert gate.pipeline.check_host("friend.test", "outbound").allowed
    friend = await remote(api, "f", "friend.test")
    await api.store.relationships.follow(alice.account.id, friend.id)
    # a block still beats an allow
    block = await admin.json("post", BLOCKS, json={"domain": "friend.test", "severity": "suspend"})
    assert not gate.pipeline.check_host("friend.test", "outbound").allowed
    await admin.json("delete", f"{BLOCKS}/{block['id']}")
    assert gate.pipeline.check_host("friend.test", "outbound").allowed
    await api.store.relationships.follow(alice.account.id, friend.id)
    # removing the allow severs the peer it let in
    await admin.json("delete", f"{ALLOWS}/{allow['id']}")
    assert not gate.pipeline.check_host("friend.test", "outbound").allowed
    assert await api.store.relationships.get_follow(alice.account.id, friend.id) is None
    # the public API keeps working in allowlist mode
    assert (await api.client.get("/api/v1/instance")).status == 200


# -- CSV ---------------------------------------------------------------------------------


MASTODON_CSV = (
    "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n"
    "spam.example,suspend,false,false,spam,false\n"
    'loud.example,silence,true,true,"too loud, really",true\n'
    "pics.example,noop,true,false,,false\n"
)


async def test_csv_import_export_round_trip(api: Api, admin: Actor) -> None:
    form = FormData()
    form.add_field("data", MASTODON_CSV.encode(), filename="blocks.csv", content_type="text/csv")
    result = await admin.json("post", BLOCKS + "/import", data=form)
    assert [b["domain"] for b in result["created"]] == [
        "spam.example",
        "loud.example",
        "pics.example",
    ]
    assert result["updated"] == [] and result["skipped"] == []
    loud = result["created"][1]
    assert (loud["severity"], loud["reject_media"], loud["reject_reports"], loud["obfuscate"]) == (
        "silence",
        True,
        True,
        True,
    )
    assert loud["public_comment"] == "too loud, really"
    gate = api.client.app[appkeys.POLICY]
    assert not gate.pipeline.check_host("spam.example", "inbound").allowed

    resp = await admin.get(BLOCKS + "/export")
    assert resp.status == 200
    assert resp.content_type == "text/csv"
    exported = await resp.text()
    assert exported == MASTODON_CSV.replace(",,", ",,")  # identical, Mastodon's columns

    # the export imports into a fresh instance unchanged (raw body this time)
    for row in await admin.json("get", BLOCKS):
        await admin.json("delete", f"{BLOCKS}/{row['id']}")
    again = await admin.json(
        "post", BLOCKS + "/import", data=exported.encode(), headers={"Content-Type": "text/csv"}
    )
    assert len(again["created"]) == 3
    assert await (await admin.get(BLOCKS + "/export")).text() == exported

    # re-import: existing blocks are skipped, or overwritten when asked
    changed = exported.replace("spam.example,suspend", "spam.example,silence")
    skipped = await admin.json(
        "post", BLOCKS + "/import", data=changed.encode(), headers={"Content-Type": "text/csv"}
    )
    assert skipped["created"] == [] and len(skipped["skipped"]) == 3
    over = await admin.json(
        "post",
        BLOCKS + "/import?overwrite=true",
        data=changed.encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert [b["domain"] for b in over["updated"]] == [
        "spam.example",
        "loud.example",
        "pics.example",
    ]
    assert gate.pipeline.check_host("spam.example", "inbound").allowed

    extended = await (await admin.get(BLOCKS + "/export?extended=true")).text()
    assert extended.splitlines()[0].endswith(",#reject_deletes,#private_comment")


async def test_csv_plain_domain_list_and_comments(api: Api, admin: Actor) -> None:
    text = "# my list\nbad.example\n\n*.worse.example\n"
    result = await admin.json(
        "post", BLOCKS + "/import", data=text.encode(), headers={"Content-Type": "text/csv"}
    )
    assert [(b["domain"], b["severity"]) for b in result["created"]] == [
        ("bad.example", "suspend"),
        ("*.worse.example", "suspend"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("#domain,#severity\nok.example,suspend\nnot a domain,suspend\n", "line 3: domain"),
        ("#domain,#severity\nok.example,obliterate\n", "line 2: severity"),
        ("#domain,#reject_media\nok.example,maybe\n", "line 2: reject_media"),
        ("#domain,#colour\nok.example,red\n", "unknown column(s) colour"),
        ("", "empty"),
    ],
)
async def test_csv_with_a_bad_line_imports_nothing(
    api: Api, admin: Actor, text: str, message: str
) -> None:
    gate = api.client.app[appkeys.POLICY]
    before = gate.pipeline
    resp = await admin.post(
        BLOCKS + "/import", data=text.encode(), headers={"Content-Type": "text/csv"}
    )
    body = await resp.json()
    assert resp.status == 422, body
    assert message in body["error"]
    assert await api.store.policy.domain_blocks() == []
    assert gate.pipeline is before


# -- decisions ---------------------------------------------------------------------------


async def test_policy_decisions_filters_and_paging(api: Api, admin: Actor) -> None:
    from datetime import UTC, datetime

    gate = api.client.app[appkeys.POLICY]
    now = datetime.now(UTC)
    await gate.record(
        [
            Decision(
                now,
                "inbound",
                "spam.test",
                "https://spam.test/u/x",
                "https://spam.test/1",
                "Create",
                "keyword[0]",
                "reject",
                True,
                "keyword 'buy cheap'",
            ),
            Decision(
                now,
                "outbound",
                "spam.test",
                None,
                None,
                "",
                "domain_block:spam.test",
                "reject",
                True,
                "spam.test is suspended",
            ),
            Decision(
                now,
                "fetch",
                "other.test",
                None,
                None,
                "",
                "mode:allowlist",
                "reject",
                False,
                "other.test is not in domain_allows",
            ),
        ]
    )
    everything = await admin.json("get", DECISIONS)
    assert [d["direction"] for d in everything] == ["fetch", "outbound", "inbound"]
    first = everything[2]
    assert first == {
        "id": first["id"],
        "time": first["time"],
        "direction": "inbound",
        "peer": "spam.test",
        "actor": "https://spam.test/u/x",
        "activity_id": "https://spam.test/1",
        "activity_type": "Create",
        "rule": "keyword[0]",
        "action": "reject",
        "enforced": True,
        "reason": "keyword 'buy cheap'",
    }
    assert [d["rule"] for d in await admin.json("get", DECISIONS + "?peer=SPAM.test")] == [
        "domain_block:spam.test",
        "keyword[0]",
    ]
    assert [d["peer"] for d in await admin.json("get", DECISIONS + "?direction=fetch")] == [
        "other.test"
    ]
    assert len(await admin.json("get", DECISIONS + "?rule=keyword[0]")) == 1
    assert (await admin.get(DECISIONS + "?direction=sideways")).status == 422
    resp = await admin.get(DECISIONS + "?limit=2")
    assert len(await resp.json()) == 2 and 'rel="next"' in resp.headers["Link"]


async def test_app_prunes_old_decisions_at_start(aiohttp_client: Any, config: Any) -> None:
    import asyncio

    from fedinode.app import create_app
    from storage.ids import now_ms
    from storage.paging import Page
    from storage.policy_rows import NewDecision
    from storage.store import Store

    store = await Store.open(config.database.url)
    try:
        day = 86_400_000
        await store.policy.record_decisions(
            [
                NewDecision(now_ms() - age * day, "inbound", "p.test", None, f"https://p.test/{age}",
                            "Create", "keyword[0]", "reject", True, "")
                for age in (1, 89, 91, 400)
            ]
        )  # fmt: skip
    finally:
        await store.close()
    client = await aiohttp_client(create_app(config))  # default retention: 90 days
    app_store = client.app[appkeys.STORE]
    for _ in range(100):
        left = await app_store.policy.decisions(Page(limit=10))
        if len(left) == 2:
            break
        await asyncio.sleep(0.05)
    assert sorted(r.activity_id for r in left) == ["https://p.test/1", "https://p.test/89"]


async def test_effective_policy_for_admins(api: Api, admin: Actor) -> None:
    await admin.json(
        "post",
        BLOCKS,
        json={"domain": "hidden.example", "obfuscate": True, "private_comment": "ticket 7"},
    )
    effective = await admin.json("get", "/api/v1/admin/policy")
    assert effective["mode"] == "open"
    [block] = effective["domain_blocks"]
    assert (block["domain"], block["private_comment"], block["obfuscate"]) == (
        "hidden.example",
        "ticket 7",
        True,
    )
