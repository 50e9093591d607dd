"""JSON of the first-contact quarantine (fedinode's admin API; Mastodon has no such queue)."""

from __future__ import annotations

from typing import Any

from fedinode.api.schemas.times import iso
from fedinode.services.quarantine import HostDecided, HostView
from storage.quarantine import HeldActivityRow


def _iso_opt(ms: int | None) -> str | None:
    return iso(ms) if ms else None


def quarantine_host_to_api(view: HostView) -> dict[str, Any]:
    row = view.row
    return {
        "host": row.host,
        "state": row.state,
        "first_seen_at": iso(row.first_seen_at),
        "held_activities": row.held,
        "last_received_at": _iso_opt(row.last_received_at),
        "expires_at": _iso_opt(view.expires_at),
        "decided_at": _iso_opt(row.decided_at),
        "decided_by": row.decided_by or None,
    }


def held_activity_to_api(row: HeldActivityRow) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "activity_id": row.activity_id,
        "type": row.activity_type,
        "actor": row.actor,
        "received_at": iso(row.received_at),
    }


def quarantine_decision_to_api(decided: HostDecided) -> dict[str, Any]:
    return {
        "host": decided.host,
        "action": decided.action,
        "activities": [held_activity_to_api(a) for a in decided.activities],
        "blocked": decided.blocked,
    }
