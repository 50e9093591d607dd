"""Shared policy lists between real instances on loopback (SQLite and PostgreSQL): A
publishes chosen blocks as a signed list, B subscribes; retractions, tampering, unsigned
lists, review drafts, priorities, adoption and the scheduled sync."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ed25519

from activitypub.integrity import verify
from activitypub.keys import parse_multikey
from activitypub.policy_lists import SigningKey, signed_list
from federation.conftest import Instance, InstanceFactory, eventually, free_port
from fedinode.services import oauth
from fedinode.services import policy_lists as lists_service
from policy.lists import CSV_HEADER, ListEntry, list_document, render_csv
from storage.paging import Page


async def _token(instance: Instance) -> str:
    admin = await instance.user("root", admin=True)
    app, _ = await oauth.register_app(
        instance.store, name="admin", redirect_uris=[oauth.OOB],
        scopes=["admin:read", "admin:write"], website=None,
    )  # fmt: skip
    user = await instance.store.users.by_account(admin.id)
    assert user is not None
    raw, _ = await oauth.issue_token(instance.store, app, user.id, ["admin:read", "admin:write"])
    return raw


class Admin:
    """An admin's HTTP client for one instance."""

    def __init__(self, instance: Instance, http: aiohttp.ClientSession, token: str) -> None:
        self.base = f"http://{instance.domain}"
        self.http = http
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, expect: int = 200, **data: Any) -> Any:
        async with self.http.request(
            method, self.base + path, json=data or None, headers=self.headers
        ) as resp:
            body = await resp.json()
            assert resp.status == expect, body
            return body

    async def block(self, domain: str, severity: str = "suspend", **extra: Any) -> Any:
        return await self.call(
            "POST", "/api/v1/admin/domain_blocks", domain=domain, severity=severity, **extra
        )

    async def subscribe(self, url: str, **extra: Any) -> str:
        body = await self.call(
            "POST", "/api/v1/admin/domain_permission_subscriptions", uri=url, **extra
        )
        return str(body["id"])

    async def sync(self, sub_id: str, expect: int = 200) -> Any:
        return await self.call(
            "POST", f"/api/v1/admin/domain_permission_subscriptions/{sub_id}/sync", expect
        )


async def _blocks(instance: Instance) -> dict[str, str]:
    return {b.domain: b.severity for b in await instance.store.policy.domain_blocks()}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_a_block_published_by_a_reaches_b_and_its_retraction_lifts_it(
    instances: InstanceFactory, backend: str, http: aiohttp.ClientSession
) -> None:
    a = await instances("a", backend=backend)
    b = await instances("b", backend=backend)
    admin_a = Admin(a, http, await _token(a))
    admin_b = Admin(b, http, await _token(b))
    await admin_a.block("spam.example", public_comment="spam, لطفاً", published=True)
    await admin_a.block("edited.example", published=True)
    await admin_a.block("silenced.example", severity="silence", reject_media=True)
    await admin_a.block("private.example")  # blocked, not published
    await admin_a.call("POST", "/api/v1/admin/policy/publish", domain="silenced.example")

    # the list is signed with a key the instance actor announces as an assertionMethod
    async with http.get(f"http://{a.domain}/policy/list.json") as resp:
        assert resp.status == 200
        doc = await resp.json()
    assert [e["domain"] for e in doc["blocks"]] == [
        "edited.example", "silenced.example", "spam.example"
    ]  # fmt: skip
    async with http.get(
        f"http://{a.domain}/actor", headers={"Accept": "application/activity+json"}
    ) as resp:
        actor = await resp.json(content_type=None)
    (method,) = actor["assertionMethod"]
    assert method["type"] == "Multikey" and method["controller"] == actor["id"]
    assert doc["proof"]["verificationMethod"] == method["id"]
    assert verify(doc, parse_multikey(method["publicKeyMultibase"]))
    # and as Mastodon's CSV
    async with http.get(f"http://{a.domain}/policy/list.csv") as resp:
        text = await resp.text()
    lines = text.splitlines()
    assert lines[0] == "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
    assert lines[1:] == ["edited.example,suspend,false,false,,false",
                         "silenced.example,silence,true,false,,false",
                         'spam.example,suspend,false,false,"spam, لطفاً",false']  # fmt: skip

    # B subscribes and syncs: it blocks what A published, nothing else
    sub = await admin_b.subscribe(f"http://{a.domain}/policy/list.json", priority=5)
    result = await admin_b.sync(sub)
    assert result["signed_by"] == actor["id"] and result["count"] == 3
    assert await _blocks(b) == {
        "spam.example": "suspend", "silenced.example": "silence", "edited.example": "suspend"
    }  # fmt: skip
    decisions = await b.store.policy.decisions(Page(limit=50), rule="subscription")
    assert {(d.peer, d.action, d.activity_id) for d in decisions} == {
        ("spam.example", "block", f"http://{a.domain}/policy/list.json"),
        ("silenced.example", "block", f"http://{a.domain}/policy/list.json"),
        ("edited.example", "block", f"http://{a.domain}/policy/list.json"),
    }
    # B's gate enforces it at once
    assert not b.fed.gate.pipeline.check_host("spam.example", "inbound").allowed
    # A retracts: B lifts the block at its next sync; a block B's admin adopted stays
    await admin_b.call("POST", "/api/v1/admin/policy/adopt", domain="silenced.example")
    edited = await b.store.policy.domain_block_by_domain("edited.example")
    assert edited is not None
    await admin_b.call("PUT", f"/api/v1/admin/domain_blocks/{edited.id}", severity="silence")
    for block in await a.store.policy.domain_blocks():
        if block.domain != "private.example":
            await admin_a.call("DELETE", f"/api/v1/admin/domain_blocks/{block.id}")
    result = await admin_b.sync(sub)
    assert result["changes"] == ["unblock spam.example"]
    assert await _blocks(b) == {"silenced.example": "silence", "edited.example": "silence"}
    async with http.get(f"http://{a.domain}/policy/list.json") as resp:
        assert (await resp.json())["blocks"] == []
    decisions = await b.store.policy.decisions(Page(limit=50), rule="subscription")
    assert ("spam.example", "unblock") in {(d.peer, d.action) for d in decisions}


async def test_the_key_is_made_once_and_kept(instances: InstanceFactory, backend: str) -> None:
    a = await instances("a", backend=backend)
    assert a.fed.list_key is not None
    first = a.fed.list_key.assertion_method()
    await a.restart()
    assert a.fed.list_key is not None
    assert a.fed.list_key.assertion_method() == first


class Publisher:
    """A stand-in publisher on loopback: an actor with an Ed25519 assertion key and lists
    served as given (signed, altered after signing, unsigned, CSV)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.key = SigningKey.of(
            self.base + "/actor#ed25519-key", self.base + "/actor",
            ed25519.Ed25519PrivateKey.generate(),
        )  # fmt: skip
        self.documents: dict[str, tuple[str, bytes]] = {}
        self.runner: web.AppRunner | None = None

    def entries(self, *entries: ListEntry, path: str = "/list.json") -> dict[str, Any]:
        doc = signed_list(self.base + path, entries, self.key)
        self.serve_json(path, doc)
        return doc

    def serve_json(self, path: str, doc: dict[str, Any]) -> None:
        import orjson

        self.documents[path] = ("application/json", orjson.dumps(doc))

    async def handle(self, request: web.Request) -> web.Response:
        if request.path == "/actor":
            import orjson

            actor = {
                "@context": ["https://www.w3.org/ns/activitystreams"],
                "id": self.key.controller, "type": "Application", "inbox": self.base + "/inbox",
                "assertionMethod": [self.key.assertion_method()],
            }  # fmt: skip
            return web.Response(body=orjson.dumps(actor), content_type="application/activity+json")
        found = self.documents.get(request.path)
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(body=found[1], content_type=found[0])

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()


@pytest.fixture
async def publisher() -> AsyncIterator[Publisher]:
    pub = Publisher()
    await pub.start()
    yield pub
    assert pub.runner is not None
    await pub.runner.cleanup()


async def test_a_tampered_or_unsigned_list_is_refused_and_logged(
    instances: InstanceFactory, backend: str, http: aiohttp.ClientSession, publisher: Publisher
) -> None:
    b = await instances("b", backend=backend)
    admin_b = Admin(b, http, await _token(b))
    doc = publisher.entries(ListEntry("block", "spam.example"))
    tampered = copy.deepcopy(doc)
    tampered["blocks"].append({"domain": "innocent.example", "severity": "suspend"})
    publisher.serve_json("/list.json", tampered)
    sub = await admin_b.subscribe(publisher.base + "/list.json")
    dry = await admin_b.call(
        "POST", f"/api/v1/admin/domain_permission_subscriptions/{sub}/test", expect=422
    )
    assert "altered after signing" in dry["error"]
    result = await admin_b.sync(sub, expect=422)
    assert "altered after signing" in result["error"]
    assert await _blocks(b) == {}
    refused = await b.store.policy.decisions(Page(limit=10), rule="subscription")
    assert [(d.action, d.activity_id) for d in refused] == [
        ("refuse_list", publisher.base + "/list.json")
    ]
    assert "altered after signing" in refused[0].reason

    # the untouched document is taken
    publisher.serve_json("/list.json", doc)
    await admin_b.sync(sub)
    assert await _blocks(b) == {"spam.example": "suspend"}

    # unsigned JSON and CSV: refused unless the subscription allows unsigned sources
    unsigned = list_document(publisher.base + "/plain.json", publisher.key.controller,
                             [ListEntry("block", "plain.example", "silence")], "2026-01-01")  # fmt: skip
    publisher.serve_json("/plain.json", unsigned)
    publisher.documents["/list.csv"] = (
        "text/csv", render_csv([ListEntry("block", "csv.example")]).encode()
    )  # fmt: skip
    plain = await admin_b.subscribe(publisher.base + "/plain.json")
    csv_sub = await admin_b.subscribe(publisher.base + "/list.csv")
    assert "unsigned" in (await admin_b.sync(plain, expect=422))["error"]
    assert "CSV" in (await admin_b.sync(csv_sub, expect=422))["error"]
    for sub_id in (plain, csv_sub):
        await admin_b.call(
            "PATCH", f"/api/v1/admin/domain_permission_subscriptions/{sub_id}", allow_unsigned=True
        )
        await admin_b.sync(sub_id)
    assert await _blocks(b) == {
        "spam.example": "suspend", "plain.example": "silence", "csv.example": "suspend"
    }  # fmt: skip


async def test_review_mode_leaves_drafts_and_priorities_decide(
    instances: InstanceFactory, backend: str, http: aiohttp.ClientSession, publisher: Publisher
) -> None:
    b = await instances("b", backend=backend)
    admin_b = Admin(b, http, await _token(b))
    publisher.entries(ListEntry("block", "shared.example", "silence"),
                      ListEntry("block", "only-high.example"))  # fmt: skip
    publisher.entries(
        ListEntry("block", "shared.example", "suspend"),
        ListEntry("block", "excluded.example"),
        ListEntry("block", "noop.example", "noop"),
        path="/low.json",
    )
    publisher.entries(ListEntry("block", "draft.example"), path="/review.json")

    # review: drafts, nothing in force until an admin accepts
    review = await admin_b.subscribe(publisher.base + "/review.json", as_draft=True)
    await admin_b.sync(review)
    assert await _blocks(b) == {}
    (draft,) = await admin_b.call("GET", "/api/v1/admin/domain_permission_drafts")
    assert draft["domain"] == "draft.example" and draft["subscription_id"] == review
    await admin_b.call("POST", f"/api/v1/admin/domain_permission_drafts/{draft['id']}/accept")
    assert await _blocks(b) == {"draft.example": "suspend"}
    assert await admin_b.call("GET", "/api/v1/admin/domain_permission_drafts") == []

    # two lists name shared.example: the higher priority one manages it, whatever the order
    low = await admin_b.subscribe(publisher.base + "/low.json", priority=10,
                                  excludes=["excluded.example"], severities=["suspend", "silence"])  # fmt: skip
    await admin_b.sync(low)
    assert (await _blocks(b))["shared.example"] == "suspend"
    assert "excluded.example" not in await _blocks(b)
    assert "noop.example" not in await _blocks(b)
    high = await admin_b.subscribe(publisher.base + "/list.json", priority=200)
    await admin_b.sync(high)
    assert (await _blocks(b))["shared.example"] == "silence"
    await admin_b.sync(low)  # the lower one does not take it back
    assert (await _blocks(b))["shared.example"] == "silence"
    mark = await b.store.policy_lists.mark("block", "shared.example")
    assert mark is not None and str(mark.subscription_id) == high

    # the schedule: a due subscription is synced by one process only
    store, gate = b.store, b.fed.gate
    first = await lists_service.sync_due(store, gate, b.fed.fetcher)
    again = await lists_service.sync_due(store, gate, b.fed.fetcher)
    assert len(first) == 3 and again == []


async def test_configured_subscription_is_synced_on_schedule(
    instances: InstanceFactory, backend: str, http: aiohttp.ClientSession
) -> None:
    a = await instances("a", backend=backend)
    admin_a = Admin(a, http, await _token(a))
    await admin_a.block("scheduled.example")
    await admin_a.call("POST", "/api/v1/admin/policy/publish", all=True)
    url = f"http://{a.domain}/policy/list.json"
    b = await instances("b", backend=backend, policy={"subscriptions": [{"url": url}]})

    async def blocked() -> bool:
        return "scheduled.example" in await _blocks(b)

    await eventually(blocked, what="the configured subscription's first sync")
    admin_b = Admin(b, http, await _token(b))
    (sub,) = await admin_b.call("GET", "/api/v1/admin/domain_permission_subscriptions")
    assert sub["from_config"] and sub["uri"] == url and sub["successfully_fetched_at"]
    # a subscription from the file is changed in the file, not through the API
    await admin_b.call(
        "DELETE", f"/api/v1/admin/domain_permission_subscriptions/{sub['id']}", expect=422
    )
    assert CSV_HEADER[0] == "#domain"


async def test_three_instances_apply_and_review(
    instances: InstanceFactory, backend: str, http: aiohttp.ClientSession
) -> None:
    """A publishes; B applies and C reviews the same list: a block on A reaches B within one
    sync and waits as a draft on C; A's retraction lifts it on B and drops C's draft."""
    a = await instances("a", backend=backend)
    b = await instances("b", backend=backend)
    c = await instances("c", backend=backend)
    admin_a, admin_b, admin_c = [Admin(i, http, await _token(i)) for i in (a, b, c)]
    url = f"http://{a.domain}/policy/list.json"
    sub_b = await admin_b.subscribe(url)
    sub_c = await admin_c.subscribe(url, as_draft=True)
    block = await admin_a.block("troll.example", published=True, public_comment="harassment")

    dry = await admin_b.call("POST", f"/api/v1/admin/domain_permission_subscriptions/{sub_b}/test")
    assert [e["domain"] for e in dry["changes"]["create"]] == ["troll.example"]
    assert dry["signed_by"] == f"http://{a.domain}/actor" and await _blocks(b) == {}
    assert (await admin_b.sync(sub_b))["changes"] == ["block troll.example"]
    assert await _blocks(b) == {"troll.example": "suspend"}
    assert (await admin_c.sync(sub_c))["changes"] == ["draft troll.example"]
    assert await _blocks(c) == {}
    (draft,) = await admin_c.call("GET", "/api/v1/admin/domain_permission_drafts")
    assert draft["domain"] == "troll.example" and draft["public_comment"] == "harassment"
    assert draft["subscription_url"] == url

    await admin_a.call("DELETE", f"/api/v1/admin/domain_blocks/{block['id']}")
    assert (await admin_b.sync(sub_b))["changes"] == ["unblock troll.example"]
    assert await _blocks(b) == {}
    await admin_c.sync(sub_c)
    assert await admin_c.call("GET", "/api/v1/admin/domain_permission_drafts") == []
    logged = await b.store.policy.decisions(Page(limit=10), rule="subscription")
    assert [(d.action, d.peer, d.activity_id) for d in logged] == [
        ("unblock", "troll.example", url), ("block", "troll.example", url)
    ]  # fmt: skip
