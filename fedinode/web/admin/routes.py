"""Every route of the admin panel, in one table."""

from __future__ import annotations

from typing import Any

from fedinode.web.admin import (
    approvals,
    domains,
    overview,
    policy_log,
    quarantine,
    reports,
    subscriptions,
)

ROUTES: tuple[tuple[str, str, Any], ...] = (
    *overview.ROUTES,
    *approvals.ROUTES,
    *domains.ROUTES,
    *quarantine.ROUTES,
    *subscriptions.ROUTES,
    *policy_log.ROUTES,
    *reports.ROUTES,
)
