"""First-contact quarantine: the admin's queue of new hosts, and releasing or rejecting them.

Release: the host is marked released and what it sent moves to the inbox queue in arrival
order (processed once, by the normal inbox worker); later activities go straight through.
Reject: what it sent is dropped and the host is suspended by a domain block (private
comment "rejected at first contact"), as a Mastodon admin would suspend it: its requests are
refused before any key fetch, it shows in the admin's domain blocks (and, with a public
comment, the public list), and lifting that block lets it in again. After
``[federation] quarantine_hours`` a host still held is released or rejected by itself
(``quarantine_expiry``). Every decision is in the policy log under ``first_contact``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from activitypub.policy_gate import PolicyGate
from activitypub.quarantine import RULE
from activitypub.settings import FederationSettings
from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services import policy as policy_service
from policy.audit import Decision
from policy.errors import PolicyConfigError
from policy.settings import normalize_domain
from storage.ids import now_ms
from storage.quarantine import HELD, HeldActivityRow, QuarantineHostRow
from storage.store import Store

log = logging.getLogger("fedinode.quarantine")
EXPIRY = "expiry"  # decided_by when quarantine_hours ran out
_HOUR_MS = 3_600_000
STATES = ("held", "released", "rejected", "all")


@dataclass(frozen=True, slots=True)
class HostView:
    """A host in the queue and when it is decided by itself (None: never)."""

    row: QuarantineHostRow
    expires_at: int | None


@dataclass(frozen=True, slots=True)
class HostDecided:
    host: str
    action: str  # release | reject
    activities: tuple[HeldActivityRow, ...]
    blocked: bool = False  # reject: a suspending domain block was created or raised


def clean_host(value: str) -> str:
    """The admin's host, normalised as peers are named (lowercase, IDNA, :port kept)."""
    try:
        return normalize_domain(value, "host", wildcard=False)
    except PolicyConfigError as exc:
        raise ValidationFailed(f"Validation failed: {exc.message}") from None


def _view(row: QuarantineHostRow, settings: FederationSettings) -> HostView:
    hours = settings.quarantine_hours
    expires = row.first_seen_at + hours * _HOUR_MS if hours and row.state == HELD else None
    return HostView(row, expires)


async def list_hosts(
    store: Store, settings: FederationSettings, state: str = "held"
) -> list[HostView]:
    if state not in STATES:
        raise ValidationFailed(f"Validation failed: state must be one of {', '.join(STATES)}")
    rows = await store.quarantine.hosts(None if state == "all" else state)
    return [_view(r, settings) for r in rows]


async def get_host(
    store: Store, settings: FederationSettings, host: str
) -> tuple[HostView, list[HeldActivityRow]]:
    clean = clean_host(host)
    row = await store.quarantine.host(clean)
    if row is None:
        raise NotFoundError()
    return _view(row, settings), await store.quarantine.activities(clean)


async def held_activity(store: Store, host: str, activity_id: str) -> dict[str, Any] | None:
    """The activity ``activity_id`` as ``host`` sent it, while it is held (else None)."""
    clean = clean_host(host)
    for item in await store.quarantine.activities(clean):
        if item.activity_id == activity_id:
            try:
                found = orjson.loads(item.payload)
            except orjson.JSONDecodeError:
                return None
            return found if isinstance(found, dict) else None
    return None


def _decisions(
    host: str, action: str, per_item: str, items: tuple[HeldActivityRow, ...], reason: str
) -> list[Decision]:
    now = datetime.now(UTC)
    out = [
        Decision(time=now, direction="inbound", peer=host, actor=None, activity_id=None,
                 activity_type="", rule=RULE, action=action, enforced=True, reason=reason)
    ]  # fmt: skip
    out += [
        Decision(time=now, direction="inbound", peer=host, actor=item.actor,
                 activity_id=item.activity_id, activity_type=item.activity_type, rule=RULE,
                 action=per_item, enforced=True, reason=reason)
        for item in items
    ]  # fmt: skip
    return out


async def release(
    store: Store,
    gate: PolicyGate,
    host: str,
    *,
    by: str,
    wake: Callable[[], None] = lambda: None,
) -> HostDecided:
    """Release ``host`` (also one never seen: it is let in at first contact); its held
    activities are queued for the inbox worker in arrival order."""
    clean = clean_host(host)
    refused = gate.pipeline.check_host(clean, "inbound")
    if not refused.allowed:
        raise ValidationFailed(
            f"Validation failed: {clean} is refused by the policy ({refused.rule}); "
            "lift that first"
        )
    taken = tuple(await store.quarantine.release(clean, by))
    who = "after quarantine_hours" if by == EXPIRY else f"by {by}"
    reason = f"first contact released {who}: {len(taken)} held activities queued in order"
    await gate.record(_decisions(clean, "release", "release", taken, reason))
    if taken:
        wake()
    return HostDecided(clean, "release", taken)


async def reject(store: Store, gate: PolicyGate, host: str, *, by: str) -> HostDecided:
    """Reject ``host``: drop what it sent and suspend it with a domain block."""
    clean = clean_host(host)
    taken = tuple(await store.quarantine.reject(clean, by))
    blocked = await _suspend(store, gate, clean, by)
    who = "after quarantine_hours" if by == EXPIRY else f"by {by}"
    reason = f"first contact rejected {who}: {len(taken)} held activities dropped"
    if blocked:
        reason += f"; {clean} suspended by a domain block"
    await gate.record(_decisions(clean, "reject", "drop", taken, reason))
    return HostDecided(clean, "reject", taken, blocked)


async def _suspend(store: Store, gate: PolicyGate, host: str, by: str) -> bool:
    """A suspending domain block for ``host`` unless one covers it already."""
    block = gate.pipeline.domain_block_for(host)
    if block is not None and block.severity == "suspend":
        return False
    comment = f"rejected at first contact ({'quarantine expiry' if by == EXPIRY else by})"
    existing = await store.policy.domain_block_by_domain(host)
    if existing is not None:
        spec = policy_service.block_input("suspend", {}, {}, creating=False)
        await policy_service.update_block(store, gate, existing.id, spec)
        return True
    spec = policy_service.block_input(
        "suspend", {}, {"private_comment": comment}, creating=True
    )
    await policy_service.create_block(store, gate, host, spec)
    return True


async def expire(
    store: Store,
    gate: PolicyGate,
    settings: FederationSettings,
    *,
    now: int | None = None,
    wake: Callable[[], None] = lambda: None,
) -> list[HostDecided]:
    """Decide the hosts held longer than quarantine_hours (quarantine_expiry); forget the
    held hosts that never had anything held."""
    if not settings.quarantine_hours:
        return []
    cutoff = (now_ms() if now is None else now) - settings.quarantine_hours * _HOUR_MS
    decided: list[HostDecided] = []
    for host in await store.quarantine.held_since_before(cutoff):
        try:
            if settings.quarantine_expiry == "reject":
                decided.append(await reject(store, gate, host, by=EXPIRY))
            else:
                decided.append(await release(store, gate, host, by=EXPIRY, wake=wake))
        except ValidationFailed as exc:  # refused by the policy since: it waits for an admin
            log.info("quarantined host %s not released: %s", host, exc)
    await store.quarantine.forget_empty(cutoff)
    return decided

