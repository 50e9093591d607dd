"""Per-peer limits between two real instances on loopback, on SQLite and PostgreSQL: a peer
over its daily activities gets 429 (its delivery is retried, not dropped) and the receiving
side's policy log records rule peer_limit; a per-domain override lets a partner past the
default."""

from __future__ import annotations

from federation.conftest import InstanceFactory, eventually
from fedinode import appkeys
from storage.models import Delivery
from storage.paging import Page

# The middle of a UTC day: the test never straddles two windows.
PINNED_MS = 1_796_000_000_000 - 1_796_000_000_000 % 86_400_000 + 43_230_000


async def test_peer_over_its_daily_activities_gets_429(
    instances: InstanceFactory, backend: str
) -> None:
    p = await instances("p", backend=backend)
    g = await instances("g", backend=backend, policy={"peer_limits": {"activities_per_day": 1}})
    assert g.app is not None
    g.app[appkeys.FEDERATION].intake.limiter.clock = lambda: PINNED_MS
    await g.user("gina")
    paul = await p.user("paul")
    gina_on_p = await p.fed.resolve_account(f"gina@{g.domain}")
    assert gina_on_p is not None

    first = await p.post(paul, "@gina one", mentions=(gina_on_p,))
    await eventually(lambda: g.store.statuses.by_uri(first.uri), what="the first post")
    second = await p.post(paul, "@gina two", mentions=(gina_on_p,))

    async def refused() -> list[Delivery]:
        rows = await p.store.queues.deliveries_for(f"{second.uri}/activity")
        return [r for r in rows if r.attempts >= 1 and r.state != "sending"]

    rows = await eventually(refused, what="the second delivery answered")
    assert [str(r.state) for r in rows] == ["retry"]  # 429 is not a permanent failure
    assert "429" in (rows[0].last_error or "")
    assert await g.store.statuses.by_uri(second.uri) is None
    records = await g.store.policy.decisions(Page(limit=20), rule="peer_limit")
    assert [(r.direction, r.peer, r.action, r.enforced) for r in records] == [
        ("inbound", p.domain, "throttle", True)
    ]
    assert records[0].activity_id == f"{second.uri}/activity"


async def test_override_lets_a_partner_past_the_default(
    instances: InstanceFactory, backend: str
) -> None:
    p = await instances("p", backend=backend)
    g = await instances("g", backend=backend, policy={"peer_limits": {
        "activities_per_day": 1,
        "overrides": [{"domain": p.domain, "activities_per_day": 10}],
    }})  # fmt: skip
    assert g.app is not None
    g.app[appkeys.FEDERATION].intake.limiter.clock = lambda: PINNED_MS
    await g.user("gina")
    paul = await p.user("paul")
    gina_on_p = await p.fed.resolve_account(f"gina@{g.domain}")
    assert gina_on_p is not None
    for n in range(3):
        post = await p.post(paul, f"@gina {n}", mentions=(gina_on_p,))
        await eventually(lambda: g.store.statuses.by_uri(post.uri), what=f"post {n}")  # noqa: B023
    assert await g.store.policy.decisions(Page(limit=20), rule="peer_limit") == []
