"""The federation policy between real instances on loopback, on SQLite and on PostgreSQL:
allowlist mode, suspension through the admin API, a keyword rule and the policy log."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from federation.conftest import Instance, InstanceFactory, eventually
from fedinode.services import oauth
from policy.settings import settings_from_mapping
from storage.accounts import NewAccount
from storage.models import Account, Status
from storage.paging import Page
from storage.statuses import NewStatus


async def _arrives(instance: Instance, uri: str) -> Status:
    return await eventually(
        lambda: instance.store.statuses.by_uri(uri), what=f"{uri} on {instance.name}"
    )


async def _dead(instance: Instance, count: int) -> None:
    async def reached() -> bool:
        return (await instance.store.queues.deliveries_by_state()).get("dead", 0) >= count

    await eventually(reached, what=f"{count} refused deliveries on {instance.name}")


async def _mutual(
    g: Instance, gina: Account, p: Instance, paul: Account
) -> tuple[Account, Account]:
    """gina@G and paul@P follow each other; returns (paul as G knows him, gina as P knows her)."""
    paul_on_g = await g.follow(gina, f"paul@{p.domain}")
    gina_on_p = await p.follow(paul, f"gina@{g.domain}")
    await eventually(
        lambda: g.store.relationships.get_follow(gina.id, paul_on_g.id), what="gina → paul"
    )
    await eventually(
        lambda: p.store.relationships.get_follow(paul.id, gina_on_p.id), what="paul → gina"
    )
    return paul_on_g, gina_on_p


async def _admin_token(instance: Instance) -> str:
    admin = await instance.user("root", admin=True)
    app, _ = await oauth.register_app(
        instance.store, name="admin", redirect_uris=[oauth.OOB], scopes=["admin:read", "admin:write"],
        website=None,
    )  # fmt: skip
    user = await instance.store.users.by_account(admin.id)
    assert user is not None
    raw, _ = await oauth.issue_token(instance.store, app, user.id, ["admin:read", "admin:write"])
    return raw


async def test_allowlisted_peer_federates_and_others_cannot(
    instances: InstanceFactory, backend: str
) -> None:
    p = await instances("p", backend=backend)
    x = await instances("x", backend=backend)
    g = await instances("g", backend=backend)
    g.policy = settings_from_mapping("allowlist", {"domain_allows": [{"domain": p.domain}]})
    await g.restart()
    gina = await g.user("gina")
    paul = await p.user("paul")
    xena = await x.user("xena")

    # the allowlisted peer federates both ways
    _paul_on_g, _gina_on_p = await _mutual(g, gina, p, paul)
    from_p = await p.post(paul, "hello guarded world")
    await _arrives(g, from_p.uri)
    assert [s.uri for s in await g.store.statuses.home_timeline(gina.id, Page())][:1] == [
        from_p.uri
    ]

    # X cannot follow: G answers 403 before fetching any key, so it never even learns of xena
    gina_on_x = await x.follow(xena, f"gina@{g.domain}")
    await _dead(x, 1)
    assert await g.store.accounts.by_uri(xena.uri) is None
    assert await x.store.relationships.get_follow(xena.id, gina_on_x.id) is None

    # X cannot post to G
    dm = await x.post(xena, "@gina psst", visibility="direct", mentions=(gina_on_x,))
    await _dead(x, 2)
    assert await g.store.statuses.by_uri(dm.uri) is None

    # G does not fetch from X: accounts, actors and statuses there are not found
    assert await g.fed.resolve_account(f"xena@{x.domain}") is None
    assert await g.fed.resolve_account(xena.uri) is None
    public_x = await x.post(xena, "public on x")
    assert await g.fed.resolve_status(public_x.uri) is None
    assert x.domain not in await g.store.policy.known_domains()

    # G never delivers to X, even to a follower it holds from before the allowlist
    stale = await g.store.accounts.create(
        NewAccount(
            username="xena", domain=x.domain, uri=xena.uri, inbox_url=xena.inbox_url,
            shared_inbox_url=xena.shared_inbox_url,
        )
    )  # fmt: skip
    await g.store.relationships.follow(stale.id, gina.id)
    from_g = await g.post(gina, "for my followers")
    await _arrives(p, from_g.uri)
    deliveries = await g.store.queues.deliveries_for(f"{from_g.uri}/activity")
    assert {d.peer for d in deliveries} == {p.domain}
    await asyncio.sleep(0.3)
    assert await x.store.statuses.by_uri(from_g.uri) is None

    decisions = await g.store.policy.decisions(Page(limit=100))
    seen = {(d.direction, d.peer, d.rule) for d in decisions}
    assert ("inbound", x.domain, "mode:allowlist") in seen
    assert ("fetch", x.domain, "mode:allowlist") in seen
    assert ("outbound", x.domain, "mode:allowlist") in seen
    assert not any(d.peer == p.domain for d in decisions)


async def test_suspend_through_the_admin_api_severs_follows(
    instances: InstanceFactory, backend: str
) -> None:
    g = await instances("g", backend=backend)
    p = await instances("p", backend=backend)
    gina = await g.user("gina")
    paul = await p.user("paul")
    paul_on_g, _ = await _mutual(g, gina, p, paul)
    token = await _admin_token(g)
    base = f"http://{g.domain}/api/v1/admin/domain_blocks"
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(base + "/preview", params={"domain": p.domain}) as resp:
            preview = await resp.json()
            assert resp.status == 200, preview
        assert preview["domains"] == [p.domain]
        assert (preview["follows_severed"], preview["followers_severed"]) == (1, 1)
        async with http.post(
            base, json={"domain": p.domain, "severity": "suspend", "public_comment": "gone"}
        ) as resp:
            block = await resp.json()
            assert resp.status == 200, block
        assert block["severed"]["follows_severed"] == 1
        assert block["severed"]["followers_severed"] == 1
        async with http.get(f"http://{g.domain}/api/v1/instance/domain_blocks") as resp:
            assert [b["domain"] for b in await resp.json()] == [p.domain]

    rel = g.store.relationships
    assert await rel.get_follow(gina.id, paul_on_g.id) is None
    assert await rel.get_follow(paul_on_g.id, gina.id) is None
    refreshed = await g.store.accounts.get(gina.id)
    assert refreshed is not None and (refreshed.following_count, refreshed.followers_count) == (
        0,
        0,
    )

    # and the suspension holds: P's posts are refused, G fetches nothing from P
    from_p = await p.post(paul, "are you there?")
    await _dead(p, 1)
    assert await g.store.statuses.by_uri(from_p.uri) is None
    assert await g.fed.resolve_account(paul.uri) is None


async def test_keyword_rule_keeps_a_post_out_of_every_timeline(
    instances: InstanceFactory, backend: str, tmp_path: Path
) -> None:
    g = await instances(
        "g",
        backend=backend,
        policy={"rules": [{"kind": "keyword", "pattern": "buy cheap", "name": "no-spam"}]},
    )
    p = await instances("p", backend=backend)
    gina = await g.user("gina")
    paul = await p.user("paul")
    await _mutual(g, gina, p, paul)

    spam = await p.post(paul, "Buy CHEAP watches #deals", tags=("deals",))
    clean = await p.post(paul, "a real post #deals", tags=("deals",))
    await _arrives(g, clean.uri)  # delivered after the spam: the spam had its chance
    assert await g.store.statuses.by_uri(spam.uri) is None
    timelines = {
        "home": await g.store.statuses.home_timeline(gina.id, Page()),
        "public": await g.store.statuses.public_timeline(gina.id, Page()),
        "federated": await g.store.statuses.public_timeline(gina.id, Page(), local=False),
        "tag": await g.store.statuses.tag_timeline(gina.id, ["deals"], Page()),
        "anonymous": await g.store.statuses.public_timeline(None, Page()),
    }
    for name, timeline in timelines.items():
        uris = [s.uri for s in timeline]
        assert clean.uri in uris, name
        assert spam.uri not in uris, name

    # `fedinode policy log --json` on G says which rule
    config = tmp_path / "g.toml"
    config.write_text(
        f'[instance]\ndomain = "{g.domain}"\n[database]\nurl = "{g.database_url}"\n'
        '[federation]\nscheme = "http"\n'
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "fedinode.cli", "--config", str(config), "policy", "log", "--json"],
        capture_output=True, text=True, timeout=60, env=os.environ.copy(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records: list[dict[str, Any]] = [json.loads(line) for line in done.stdout.splitlines()]
    hits = [r for r in records if r["activity_id"] == f"{spam.uri}/activity"]
    assert len(hits) == 1, records
    assert hits[0]["rule"] == "no-spam"
    assert (hits[0]["direction"], hits[0]["peer"], hits[0]["action"]) == (
        "inbound",
        p.domain,
        "reject",
    )
    assert hits[0]["enforced"] is True and hits[0]["activity_type"] == "Create"
    assert "buy cheap" in hits[0]["reason"]
    assert not any(r["activity_id"] == f"{clean.uri}/activity" for r in records)


async def test_dry_run_rule_records_but_lets_the_post_through(
    instances: InstanceFactory, backend: str
) -> None:
    g = await instances(
        "g",
        backend=backend,
        policy={"rules": [{"kind": "keyword", "pattern": "casino", "dry_run": True}]},
    )
    p = await instances("p", backend=backend)
    gina = await g.user("gina")
    paul = await p.user("paul")
    await _mutual(g, gina, p, paul)
    post = await p.post(paul, "Casino night at the community hall")
    await _arrives(g, post.uri)
    decisions = await g.store.policy.decisions(Page(limit=20), rule="keyword[0]")
    assert [(d.activity_id, d.enforced) for d in decisions] == [(f"{post.uri}/activity", False)]


async def test_keyword_rule_also_guards_fetched_and_boosted_posts(
    instances: InstanceFactory, backend: str
) -> None:
    g = await instances(
        "g", backend=backend, policy={"rules": [{"kind": "keyword", "pattern": "buy cheap"}]}
    )
    p = await instances("p", backend=backend)
    gina = await g.user("gina")
    paul = await p.user("paul")
    peter = await p.user("peter")
    await _mutual(g, gina, p, paul)

    # peter (not followed from G) posts spam; paul boosts it: G gets an Announce of an id
    spam = await p.post(peter, "Buy cheap followers")
    reblog = await p.store.statuses.create(
        NewStatus(account_id=paul.id, local=True, reblog_of_id=spam.id, visibility="public"),
        uri_template=p.urls.status_template("paul"),
    )
    await p.fed.outbox.reblogged(reblog)
    marker = await p.post(paul, "after the boost")
    await _arrives(g, marker.uri)
    await asyncio.sleep(0.5)
    assert await g.store.statuses.by_uri(spam.uri) is None
    # a search (resolve by URL) does not bring it in either
    assert await g.fed.resolve_status(spam.uri) is None
