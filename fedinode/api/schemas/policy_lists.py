"""JSON of shared policy lists: subscriptions and drafts shaped like GoToSocial's
``DomainPermissionSubscription`` and ``DomainPermission`` drafts, plus fedinode's fields."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from activitypub.policy_lists import FetchedList
from fedinode.api.schemas.times import iso
from policy.lists import ListEntry, SyncPlan
from storage.policy_lists import DraftRow, SubscriptionRow


def _iso_opt(ms: int | None) -> str | None:
    return iso(ms) if ms else None


def subscription_to_api(row: SubscriptionRow) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "priority": row.priority,
        "title": row.title,
        "permission_type": "block",  # GoToSocial's; fedinode lists carry blocks and allows
        "as_draft": row.mode == "review",
        "adopt_orphans": False,
        "remove_retracted": row.mode == "apply",
        "created_by": "config" if row.from_config else "api",
        "created_at": iso(row.created_at),
        "uri": row.url,
        "content_type": "text/csv" if row.content_type == "csv" else "application/json",
        "fetched_at": _iso_opt(row.fetched_at),
        "successfully_fetched_at": _iso_opt(row.successfully_fetched_at),
        "error": row.error or None,
        "count": row.count,
        # fedinode's
        "url": row.url,
        "mode": row.mode,
        "excludes": list(row.excludes),
        "severities": list(row.severities),
        "allow_unsigned": row.allow_unsigned,
        "signed_by": row.signed_by or None,
        "from_config": row.from_config,
    }


def draft_to_api(row: DraftRow, subscription_url: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(row.id),
        "domain": row.domain,
        "permission_type": row.kind,
        "subscription_id": str(row.subscription_id),
        "subscription_url": subscription_url,
        "created_at": iso(row.created_at),
        "public_comment": row.public_comment or None,
    }
    if row.kind == "block":
        out.update(severity=row.severity, reject_media=row.reject_media,
                   reject_reports=row.reject_reports, obfuscate=row.obfuscate)  # fmt: skip
    return out


def list_entry_to_api(entry: ListEntry) -> dict[str, Any]:
    return {"permission_type": entry.kind, **entry.to_json()}


def sync_plan_to_api(plan: SyncPlan) -> dict[str, Any]:
    return {
        name: [list_entry_to_api(e) for e in getattr(plan, name)]
        for name in ("create", "update", "take_over", "retract", "drafts", "skipped")
    }


def publish_result_to_api(kind: str, published: bool, domains: list[str]) -> dict[str, Any]:
    """What `publish`/`unpublish` changed: the domains whose flag flipped."""
    return {"permission_type": kind, "published": published, "domains": domains}


def adopt_result_to_api(kind: str, domain: str, adopted: bool) -> dict[str, Any]:
    return {"permission_type": kind, "domain": domain, "adopted": adopted}


def subscription_test_to_api(fetched: FetchedList, plan: SyncPlan) -> dict[str, Any]:
    """GoToSocial's dry run, with what a sync would change."""
    return {
        "signed_by": fetched.signed_by or None,
        "content_type": fetched.content_type,
        "entries": [list_entry_to_api(e) for e in fetched.entries],
        "changes": sync_plan_to_api(plan),
    }


def sync_result_to_api(
    row: SubscriptionRow, changed: Sequence[str], error: str = ""
) -> dict[str, Any]:
    """A subscription after a sync, with the changes it made (and its error, if refused)."""
    body = subscription_to_api(row)
    body["changes"] = list(changed)
    if error:
        body["error"] = error
    return body
