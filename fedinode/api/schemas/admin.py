"""The admin API: Admin::Account, Admin::Report, domain blocks and allows (with what a
suspension severed), policy decisions."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from fedinode.api.schemas.accounts import account_to_api, custom_emoji_to_api, role_to_api
from fedinode.api.schemas.statuses import statuses_to_api
from fedinode.api.schemas.times import at, iso
from fedinode.config import Config
from fedinode.services.views import StatusView
from storage.custom_emojis import CustomEmoji
from storage.models import Account, DomainAllowRow, DomainBlockRow, PolicyDecisionRow, Report, User

if TYPE_CHECKING:
    from fedinode.api import entities as e

if TYPE_CHECKING:
    # Types only: services import this module (streaming), so no import cycle at run time.
    from fedinode.services.policy import Impact


def admin_account_to_api(
    account: Account, user: User | None, sensitized: bool, base_url: str
) -> e.AdminAccount:
    """Admin::Account entity."""
    return {
        "id": str(account.id),
        "username": account.username,
        "domain": account.domain or None,
        "created_at": iso(account.created_at),
        "email": user.email if user is not None else None,
        "ip": None,
        "ips": [],
        "locale": (user.locale or None) if user is not None else None,
        "invite_request": (user.reason or None) if user is not None else None,
        "role": role_to_api(user is not None and user.admin),
        "confirmed": user is not None and user.confirmed,
        "approved": user.approved if user is not None else True,
        "disabled": user.disabled if user is not None else False,
        "sensitized": sensitized,
        "silenced": account.silenced,
        "suspended": account.suspended,
        "account": account_to_api(account, base_url),
        "created_by_application_id": None,
        "invited_by_account_id": None,
    }


def admin_report_to_api(
    report: Report,
    action_taken_by: e.AdminAccount | None,
    account: e.AdminAccount,
    target_account: e.AdminAccount,
    assigned_account: e.AdminAccount | None,
    statuses: Sequence[StatusView],
    config: Config,
    viewer_id: int | None,
) -> e.AdminReport:
    """Admin::Report entity (the accounts are Admin::Account entities)."""
    return {
        "id": str(report.id),
        "action_taken": report.action_taken_at is not None,
        "action_taken_at": iso(report.action_taken_at),
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": iso(report.created_at),
        "updated_at": iso(report.updated_at),
        "account": account,
        "target_account": target_account,
        "assigned_account": assigned_account,
        "action_taken_by_account": action_taken_by,
        "statuses": statuses_to_api(statuses, config, viewer_id),
        "rules": [],
    }


def domain_block_to_api(row: DomainBlockRow, impact: Impact | None = None) -> e.AdminDomainBlock:
    """Admin::DomainBlock, plus fedinode's finer flags and, when a change severed anything,
    what (``severed``, an extension apps ignore)."""
    out: e.AdminDomainBlock = {
        "id": str(row.id),
        "domain": row.domain,
        "digest": hashlib.sha256(row.domain.encode()).hexdigest(),
        "created_at": iso(row.created_at),
        "severity": row.severity,
        "reject_media": row.reject_media,
        "reject_reports": row.reject_reports,
        "private_comment": row.private_comment or None,
        "public_comment": row.public_comment or None,
        "obfuscate": row.obfuscate,
        "federated_timeline_removal": row.federated_timeline_removal,
        "followers_only": row.followers_only,
        "avatar_removal": row.avatar_removal,
        "banner_removal": row.banner_removal,
        "reject_deletes": row.reject_deletes,
    }
    if impact is not None and impact.domains:
        out["severed"] = domain_block_impact_to_api(impact)
    return out


def domain_block_conflict_to_api(
    message: str, existing: DomainBlockRow
) -> e.AdminDomainBlockConflict:
    return {"error": message, "existing_domain_block": domain_block_to_api(existing)}


def domain_import_to_api(
    created: Sequence[DomainBlockRow],
    updated: Sequence[DomainBlockRow],
    skipped: Sequence[str],
    severed: Sequence[Impact],
) -> e.AdminDomainImport:
    return {
        "created": [domain_block_to_api(r) for r in created],
        "updated": [domain_block_to_api(r) for r in updated],
        "skipped": list(skipped),
        "severed": [domain_block_impact_to_api(i) for i in severed],
    }


def domain_allow_to_api(row: DomainAllowRow) -> e.AdminDomainAllow:
    """Admin::DomainAllow."""
    return {"id": str(row.id), "domain": row.domain, "created_at": iso(row.created_at)}


def policy_decision_to_api(row: PolicyDecisionRow) -> e.PolicyDecision:
    """One audit record (fedinode extension: /api/v1/admin/policy/decisions)."""
    return {
        "id": str(row.id),
        "time": iso(row.time),
        "direction": row.direction,
        "peer": row.peer,
        "actor": row.actor,
        "activity_id": row.activity_id,
        "activity_type": row.activity_type,
        "rule": row.rule,
        "action": row.action,
        "enforced": row.enforced,
        "reason": row.reason,
    }


def domain_block_impact_to_api(impact: Impact) -> e.AdminDomainImpact:
    """What a suspension severs (fedinode extension), from services.policy.Impact."""
    return {
        "domain": impact.domain,
        "severity": impact.severity,
        "domains": list(impact.domains),
        "follows_severed": impact.follows_severed,
        "followers_severed": impact.followers_severed,
        "follow_requests_dropped": impact.follow_requests_dropped,
        "cached_statuses": impact.cached_statuses,
        "statuses_purged": impact.statuses_purged,
    }


def admin_emoji_to_api(emoji: CustomEmoji, base_url: str) -> e.AdminEmoji:
    """AdminEmoji: a custom emoji with what an admin manages (GoToSocial's entity)."""
    if emoji.domain:
        url = f"{base_url}/media/{emoji.file_path}" if emoji.file_path else emoji.image_remote_url
        static = f"{base_url}/media/{emoji.static_path}" if emoji.static_path else url
        shown: e.CustomEmoji = {
            "shortcode": emoji.shortcode,
            "url": url,
            "static_url": static,
            "visible_in_picker": False,
        }
    else:
        shown = custom_emoji_to_api(emoji, base_url)
    return {
        **shown,
        "category": emoji.category or None,
        "id": str(emoji.id),
        "disabled": emoji.disabled,
        "domain": emoji.domain or None,
        "updated_at": at(emoji.updated_at),
        "total_file_size": emoji.size,
        "content_type": emoji.content_type,
        "uri": emoji.uri or f"{base_url}/emojis/{emoji.id}",
    }
