"""Every route of the admin panel, in one table.

Each page module's ``ROUTES`` says which handler serves a route; the modules are imported
at the first request to one of their pages (``fedinode.first_use``), so a process nobody
administers does not hold the panel's code. The paths are listed here for the router
(a test checks they are the modules' own).
"""

from __future__ import annotations

from typing import Any

from fedinode.first_use import first_use_routes

_ID = r"{id:\d+}"
_HOST = "{host:[^/]+}"

PAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "fedinode.web.admin.overview": (("GET", "/admin"),),
    "fedinode.web.admin.approvals": (
        ("GET", "/admin/accounts/pending"),
        ("POST", f"/admin/accounts/{_ID}/approve"),
        ("POST", f"/admin/accounts/{_ID}/reject"),
    ),
    "fedinode.web.admin.domains": (
        ("GET", "/admin/domain_blocks"),
        ("POST", "/admin/domain_blocks"),
        ("GET", "/admin/domain_blocks/new"),
        ("GET", f"/admin/domain_blocks/{_ID}"),
        ("POST", f"/admin/domain_blocks/{_ID}"),
        ("POST", f"/admin/domain_blocks/{_ID}/delete"),
        ("GET", "/admin/domain_allows"),
        ("POST", "/admin/domain_allows"),
        ("POST", f"/admin/domain_allows/{_ID}/delete"),
    ),
    "fedinode.web.admin.quarantine": (
        ("GET", "/admin/quarantine"),
        ("GET", f"/admin/quarantine/{_HOST}"),
        ("POST", f"/admin/quarantine/{_HOST}/release"),
        ("POST", f"/admin/quarantine/{_HOST}/reject"),
    ),
    "fedinode.web.admin.subscriptions": (
        ("GET", "/admin/subscriptions"),
        ("POST", "/admin/subscriptions"),
        ("POST", f"/admin/subscriptions/{_ID}/sync"),
        ("POST", f"/admin/subscriptions/{_ID}/delete"),
        ("POST", f"/admin/drafts/{_ID}/accept"),
        ("POST", f"/admin/drafts/{_ID}/reject"),
    ),
    "fedinode.web.admin.policy_log": (
        ("GET", "/admin/policy_log"),
        ("GET", f"/admin/policy_log/{_ID}"),
        ("GET", "/admin/policy_log/explain"),
        ("POST", "/admin/policy_log/explain"),
    ),
    "fedinode.web.admin.reports": (
        ("GET", "/admin/reports"),
        ("POST", f"/admin/reports/{_ID}/resolve"),
        ("POST", f"/admin/reports/{_ID}/reopen"),
    ),
}

ROUTES: tuple[tuple[str, str, Any], ...] = first_use_routes(PAGES)
