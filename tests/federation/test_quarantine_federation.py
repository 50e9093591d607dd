"""First-contact quarantine between real instances on loopback, on SQLite and PostgreSQL:
a new peer's signed deliveries are held, listed, and processed in order once released (the
admin API), or dropped and the peer suspended once rejected (the command line)."""

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
from fedinode import appkeys
from fedinode.services import oauth
from storage.paging import Page
from storage.quarantine import HeldActivityRow

QUARANTINE = {"first_contact": "quarantine"}


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


async def _held(instance: Instance, host: str, count: int) -> list[HeldActivityRow]:
    async def probe() -> list[HeldActivityRow]:
        rows = await instance.store.quarantine.activities(host)
        return rows if len(rows) >= count else []

    return await eventually(probe, what=f"{count} held activities from {host}")


def _cli(instance: Instance, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / f"{instance.name}.toml"
    config.write_text(
        f'[instance]\ndomain = "{instance.domain}"\n[database]\nurl = "{instance.database_url}"\n'
        '[federation]\nscheme = "http"\nfirst_contact = "quarantine"\n'
    )
    return subprocess.run(
        [sys.executable, "-m", "fedinode.cli", "--config", str(config), *args],
        capture_output=True, text=True, timeout=60, env=os.environ.copy(),
    )  # fmt: skip


async def test_new_peer_is_held_listed_and_released_in_order(
    instances: InstanceFactory, backend: str
) -> None:
    g = await instances("g", backend=backend, federation=QUARANTINE)
    p = await instances("p", backend=backend)
    k = await instances("k", backend=backend)
    gina, paul, kate = await g.user("gina"), await p.user("paul"), await k.user("kate")

    # A host G contacted itself is known: gina follows kate, kate's posts arrive at once.
    kate_on_g = await g.follow(gina, f"kate@{k.domain}")
    await eventually(lambda: g.store.relationships.get_follow(gina.id, kate_on_g.id),
                     what="kate's Accept")  # fmt: skip
    from_k = await k.post(kate, "hello from a known host")
    await eventually(lambda: g.store.statuses.by_uri(from_k.uri), what="kate's post")

    # P was never seen by G: its follow and two posts are held, not processed. (Each is
    # awaited before the next: P's delivery worker sends concurrently, and the order that
    # counts is the order they arrive in.)
    gina_on_p = await p.follow(paul, f"gina@{g.domain}")
    await _held(g, p.domain, 1)
    first = await p.post(paul, "@gina first", mentions=(gina_on_p,))
    await _held(g, p.domain, 2)
    second = await p.post(paul, "@gina second", mentions=(gina_on_p,))
    held = await _held(g, p.domain, 3)
    assert [a.activity_type for a in held] == ["Follow", "Create", "Create"]
    assert [a.activity_id for a in held][1:] == [f"{first.uri}/activity", f"{second.uri}/activity"]
    await g.fed.process_pending(within=2.0)
    assert await g.store.statuses.by_uri(first.uri) is None
    paul_on_g = await g.store.accounts.by_uri(paul.uri)  # fetched to verify the signature
    assert paul_on_g is not None
    assert await g.store.relationships.get_follow(paul_on_g.id, gina.id) is None
    assert k.domain not in [h.host for h in await g.store.quarantine.hosts(None)]

    token = await _admin_token(g)
    base = f"http://{g.domain}/api/v1/admin/quarantine"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with aiohttp.ClientSession() as anon, anon.get(base) as resp:
            assert resp.status in (401, 403)
        async with http.get(base) as resp:
            listed = await resp.json()
            assert resp.status == 200, listed
        assert [(h["host"], h["state"], h["held_activities"]) for h in listed] == [
            (p.domain, "held", 3)
        ]
        assert listed[0]["expires_at"] is not None  # quarantine_hours = 72 by default
        async with http.get(f"{base}/{p.domain}") as resp:
            one = await resp.json()
        assert [a["type"] for a in one["activities"]] == ["Follow", "Create", "Create"]

        async with http.post(f"{base}/{p.domain}/release") as resp:
            released = await resp.json()
            assert resp.status == 200, released
        assert released["action"] == "release" and len(released["activities"]) == 3

        s1 = await eventually(lambda: g.store.statuses.by_uri(first.uri), what="first post")
        s2 = await eventually(lambda: g.store.statuses.by_uri(second.uri), what="second post")
        # Processed in arrival order: the follow, then the posts as sent (notification ids
        # are made when an activity is processed; status ids come from the published time).
        async def notified() -> list[Any]:
            found = await g.store.notifications.list(gina.id, Page())
            return found if len(found) >= 3 else []

        order = sorted(await eventually(notified, what="3 notifications"), key=lambda n: n.id)
        assert [(n.type, n.status_id) for n in order] == [
            ("follow", None), ("mention", s1.id), ("mention", s2.id)
        ]
        assert await g.store.relationships.get_follow(paul_on_g.id, gina.id) is not None
        public = [s.uri for s in await g.store.statuses.public_timeline(gina.id, Page(), local=False)]
        assert first.uri in public and second.uri in public

        # Exactly once: a second release finds nothing, and nothing is processed twice.
        async with http.post(f"{base}/{p.domain}/release/") as resp:
            again = await resp.json()
            assert resp.status == 200, again
        assert again["activities"] == []
        async with http.get(base, params={"state": "released"}) as resp:
            assert [(h["host"], h["decided_by"]) for h in await resp.json()] == [(p.domain, "root")]

    # Released: what P sends now goes straight through.
    third = await p.post(paul, "@gina third", mentions=(gina_on_p,))
    await eventually(lambda: g.store.statuses.by_uri(third.uri), what="third post")
    assert await g.store.quarantine.activities(p.domain) == []
    mine = [s for s in await g.store.statuses.public_timeline(gina.id, Page(), local=False)
            if s.uri in (first.uri, second.uri, third.uri)]  # fmt: skip
    assert len(mine) == 3

    decisions = [d for d in await g.store.policy.decisions(Page(limit=100), rule="first_contact")]
    actions = sorted((d.action, d.activity_type or "") for d in decisions)
    assert actions == [
        ("hold", "Create"), ("hold", "Create"), ("hold", "Follow"),
        ("release", ""), ("release", ""),
        ("release", "Create"), ("release", "Create"), ("release", "Follow"),
    ]  # fmt: skip
    assert all(d.peer == p.domain and d.direction == "inbound" for d in decisions)
    assert not any(d.peer == k.domain for d in decisions)


async def test_rejected_peer_leaves_nothing_and_is_suspended(
    instances: InstanceFactory, backend: str, tmp_path: Path
) -> None:
    g = await instances("g", backend=backend, federation=QUARANTINE)
    p = await instances("p", backend=backend)
    gina, paul = await g.user("gina"), await p.user("paul")
    gina_on_p = await p.follow(paul, f"gina@{g.domain}")
    post = await p.post(paul, "@gina buy my stuff", mentions=(gina_on_p,))
    await _held(g, p.domain, 2)

    listed = await asyncio.to_thread(
        _cli, g, tmp_path, "policy", "quarantine", "list", "--json"
    )
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["host"], r["state"], r["held"]) for r in rows] == [(p.domain, "held", 2)]

    done = await asyncio.to_thread(_cli, g, tmp_path, "policy", "quarantine", "reject", p.domain)
    assert done.returncode == 0, done.stderr
    assert "2 held activities dropped" in done.stdout
    assert await g.store.quarantine.activities(p.domain) == []
    assert (await g.store.quarantine.state(p.domain)) == "rejected"
    block = await g.store.policy.domain_block_by_domain(p.domain)
    assert block is not None and block.severity == "suspend"
    assert "rejected at first contact" in block.private_comment

    # The running server learns of the block; P is refused from now on.
    gate = g.app[appkeys.POLICY] if g.app is not None else None
    assert gate is not None

    async def refused() -> bool:
        await gate.refresh_if_changed()
        return not gate.pipeline.check_host(p.domain, "inbound").allowed

    await eventually(refused, what="the suspension in force")
    later = await p.post(paul, "@gina still there?", mentions=(gina_on_p,))

    async def dead() -> bool:
        return (await p.store.queues.deliveries_by_state()).get("dead", 0) >= 1

    await eventually(dead, what="P's delivery refused")
    await g.fed.process_pending(within=2.0)
    for uri in (post.uri, later.uri):
        assert await g.store.statuses.by_uri(uri) is None
    assert await g.store.statuses.public_timeline(gina.id, Page(), local=False) == []
    assert await g.store.quarantine.activities(p.domain) == []

    unknown = await asyncio.to_thread(
        _cli, g, tmp_path, "policy", "quarantine", "release", "not a host"
    )
    assert unknown.returncode == 2 and "host" in unknown.stderr

    log = await asyncio.to_thread(_cli, g, tmp_path, "policy", "log", "--json", "--limit", "100")
    assert log.returncode == 0, log.stderr
    records = [json.loads(line) for line in log.stdout.splitlines()]
    mine = [(r["rule"], r["action"], r["activity_type"]) for r in records if r["peer"] == p.domain]
    assert sorted(m for m in mine if m[0] == "first_contact") == [
        ("first_contact", "drop", "Create"), ("first_contact", "drop", "Follow"),
        ("first_contact", "hold", "Create"), ("first_contact", "hold", "Follow"),
        ("first_contact", "reject", ""),
    ]  # fmt: skip
    assert (f"domain_block:{p.domain}", "reject", "Create") in mine
    reject = next(r for r in records if r["rule"] == "first_contact" and r["action"] == "reject")
    assert reject["enforced"] is True and "suspended" in reject["reason"]
