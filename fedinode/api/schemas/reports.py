"""Report, as its reporter sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedinode.api.schemas.accounts import account_to_api
from fedinode.api.schemas.times import at, iso
from storage.models import Account, Report

if TYPE_CHECKING:
    from fedinode.api import entities as e


def report_to_api(report: Report, target: Account, base_url: str) -> e.Report:
    """Report entity, as its reporter sees it."""
    return {
        "id": str(report.id),
        "action_taken": report.action_taken_at is not None,
        "action_taken_at": iso(report.action_taken_at),
        "category": report.category,
        "comment": report.comment,
        "forwarded": report.forwarded,
        "created_at": at(report.created_at),
        "status_ids": [str(i) for i in report.status_ids] or None,
        "rule_ids": [str(i) for i in report.rule_ids] or None,
        "target_account": account_to_api(target, base_url),
    }
