"""The admin panel's quarantine queue between real instances on loopback, on SQLite and
PostgreSQL: an admin logs in to G's panel, sees what a new peer sent, has a held activity
explained, releases one peer (its posts are then processed in order) and rejects another
(dropped, suspended)."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from federation.conftest import Instance, InstanceFactory, eventually
from storage.paging import Page

QUARANTINE = {"first_contact": "quarantine"}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_BDI = re.compile(r"</?bdi>")


class Panel:
    """A browser on G: cookies kept (loopback needs the unsafe jar), forms with the token."""

    def __init__(self, instance: Instance) -> None:
        self.base = f"http://{instance.domain}"
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.token = ""

    async def get(self, path: str, expect: int = 200) -> str:
        async with self.http.get(self.base + path, allow_redirects=False) as resp:
            html = await resp.text()
            assert resp.status == expect, (path, resp.status, html[:1000])
        found = _TOKEN.search(html)
        if found:
            self.token = found.group(1)
        return _BDI.sub("", html)  # the isolates around domains in sentences

    async def post(self, path: str, data: dict[str, str], expect: int = 303) -> str:
        form = {**data, "csrf_token": self.token}
        async with self.http.post(self.base + path, data=form, allow_redirects=False) as resp:
            assert resp.status == expect, (path, resp.status, (await resp.text())[:1000])
            return resp.headers.get("Location", "")

    async def close(self) -> None:
        await self.http.close()


async def _held(instance: Instance, host: str, count: int) -> Any:
    async def probe() -> Any:
        rows = await instance.store.quarantine.activities(host)
        return rows if len(rows) >= count else []

    return await eventually(probe, what=f"{count} held activities from {host}")


async def test_release_and_reject_through_the_admin_panel(
    instances: InstanceFactory, backend: str
) -> None:
    g = await instances("g", backend=backend, federation=QUARANTINE)
    p = await instances("p", backend=backend)
    q = await instances("q", backend=backend)
    await g.user("root", admin=True)
    gina, paul, quinn = await g.user("gina"), await p.user("paul"), await q.user("quinn")
    gina_on_p = await p.follow(paul, f"gina@{g.domain}")
    await _held(g, p.domain, 1)
    first = await p.post(paul, "@gina hello from a new server", mentions=(gina_on_p,))
    held = await _held(g, p.domain, 2)
    gina_on_q = await q.follow(quinn, f"gina@{g.domain}")
    spam = await q.post(quinn, "@gina buy my stuff", mentions=(gina_on_q,))
    await _held(g, q.domain, 2)
    await g.fed.process_pending(within=2.0)
    assert await g.store.statuses.by_uri(first.uri) is None

    panel = Panel(g)
    try:
        await panel.get("/admin", expect=302)
        await panel.get("/auth/sign_in")
        assert await panel.post("/auth/sign_in", {"login": "root", "password": "correct horse battery"}) == "/settings"
        overview = await panel.get("/admin")
        assert "2 new servers wait in quarantine" in overview
        queue = await panel.get("/admin/quarantine")
        assert p.domain in queue and q.domain in queue
        detail = await panel.get(f"/admin/quarantine/{p.domain}")
        assert "2 held activities" in detail
        assert "Follow" in detail and "Create" in detail and "hello from a new server" in detail

        # The log's record of a held activity is explained with the activity itself.
        holds = await g.store.policy.decisions(Page(limit=10), rule="first_contact", peer=p.domain)
        create = next(d for d in holds if d.activity_id == held[1].activity_id)
        entry = await panel.get(f"/admin/policy_log/{create.id}")
        assert "The activity, held in quarantine" in entry
        assert f"The server {p.domain} is accepted." in entry and "Outcome: accepted" in entry

        # Release P: what it sent is processed in order.
        location = await panel.post(f"/admin/quarantine/{p.domain}/release", {})
        assert location.startswith("/admin/quarantine?done=released")
        assert "being processed in order" in await panel.get(location)
        status = await eventually(lambda: g.store.statuses.by_uri(first.uri), what="P's post")
        assert status is not None
        paul_on_g = await g.store.accounts.by_uri(paul.uri)
        assert paul_on_g is not None
        await eventually(lambda: g.store.relationships.get_follow(paul_on_g.id, gina.id),
                         what="P's follow")  # fmt: skip
        released = await panel.get("/admin/quarantine?state=released")
        assert p.domain in released and "by root" in released

        # Reject Q: dropped and suspended.
        await panel.post(f"/admin/quarantine/{q.domain}/reject", {})
        assert await g.store.quarantine.activities(q.domain) == []
        block = await g.store.policy.domain_block_by_domain(q.domain)
        assert block is not None and block.severity == "suspend"
        await g.fed.process_pending(within=1.0)
        assert await g.store.statuses.by_uri(spam.uri) is None
        log = await panel.get(f"/admin/policy_log?rule=first_contact&peer={q.domain}")
        assert "reject" in log and "drop" in log
    finally:
        await panel.close()
