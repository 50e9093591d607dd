"""quarantine_hours: a host held too long is released (in arrival order, once) or rejected
(dropped and suspended) by itself; a held host that never had anything held is forgotten;
a host the policy refuses meanwhile is left for an admin. On SQLite and PostgreSQL."""

from __future__ import annotations

from activitypub.policy_gate import PolicyGate
from activitypub.settings import FederationSettings
from fedinode.services import quarantine
from policy.settings import settings_from_mapping
from storage.ids import now_ms
from storage.paging import Page
from storage.quarantine import HeldActivity
from storage.store import Store

HOUR_MS = 3_600_000


def _settings(expiry: str, hours: int = 72) -> FederationSettings:
    return FederationSettings(
        domain="local.test", first_contact="quarantine", quarantine_hours=hours,
        quarantine_expiry=expiry,
    )  # fmt: skip


async def _gate(store: Store, policy: dict[str, object] | None = None) -> PolicyGate:
    gate = PolicyGate(settings_from_mapping("open", policy or {}), store)
    await gate.refresh()
    return gate


async def _hold(store: Store, host: str, *names: str) -> None:
    for name in names:
        held = await store.quarantine.hold(
            HeldActivity(host=host, activity_id=f"https://{host}/{name}", activity_type="Create",
                         actor=f"https://{host}/users/x", payload='{"type": "Create"}')
        )  # fmt: skip
        assert held


async def test_expiry_releases_in_arrival_order_once(store: Store) -> None:
    gate = await _gate(store)
    await _hold(store, "new.example", "a", "b", "c")
    await store.quarantine.mark_held("nothing.example")
    settings = _settings("release")
    # Not yet: held for less than quarantine_hours.
    assert await quarantine.expire(store, gate, settings) == []
    later = now_ms() + 73 * HOUR_MS
    decided = await quarantine.expire(store, gate, settings, now=later)
    assert [(d.host, d.action, len(d.activities)) for d in decided] == [
        ("new.example", "release", 3)
    ]
    assert await store.quarantine.state("new.example") == "released"
    assert await store.quarantine.state("nothing.example") is None  # forgotten, not decided
    assert await quarantine.expire(store, gate, settings, now=later) == []
    claimed = await store.queues.claim_inbox(10)
    assert [i.activity_id for i in claimed] == [f"https://new.example/{n}" for n in "abc"]
    logged = await store.policy.decisions(Page(limit=20), rule="first_contact")
    host_record = [d for d in logged if d.activity_id is None]
    assert len(host_record) == 1 and "after quarantine_hours" in host_record[0].reason


async def test_expiry_rejects_and_suspends(store: Store) -> None:
    gate = await _gate(store)
    await _hold(store, "new.example", "a")
    decided = await quarantine.expire(store, gate, _settings("reject"), now=now_ms() + 73 * HOUR_MS)
    assert [(d.host, d.action, d.blocked) for d in decided] == [("new.example", "reject", True)]
    assert await store.quarantine.activities("new.example") == []
    assert await store.queues.claim_inbox(10) == []
    block = await store.policy.domain_block_by_domain("new.example")
    assert block is not None and block.severity == "suspend"
    assert not gate.pipeline.check_host("new.example", "inbound").allowed


async def test_no_expiry_with_zero_hours_and_refused_hosts_wait(store: Store) -> None:
    gate = await _gate(store, {"domain_blocks": [{"domain": "bad.example"}]})
    await _hold(store, "bad.example", "a")
    far = now_ms() + 10_000 * HOUR_MS
    assert await quarantine.expire(store, gate, _settings("release", hours=0), now=far) == []
    # The policy suspends the host since it was held: it is not let in by the clock.
    assert await quarantine.expire(store, gate, _settings("release"), now=far) == []
    assert await store.quarantine.state("bad.example") == "held"
    assert len(await store.quarantine.activities("bad.example")) == 1
