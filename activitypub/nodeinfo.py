"""NodeInfo 2.0 and 2.1 documents and the discovery document that points at them."""

from __future__ import annotations

from typing import Any

from activitypub.settings import FederationSettings
from storage.models import InstanceStats

VERSIONS = ("2.0", "2.1")


def discovery(settings: FederationSettings) -> dict[str, Any]:
    return {
        "links": [
            {
                "rel": f"http://nodeinfo.diaspora.software/ns/schema/{v}",
                "href": f"{settings.base_url}/nodeinfo/{v}",
            }
            for v in VERSIONS
        ]
    }


def document(
    version: str,
    settings: FederationSettings,
    stats: InstanceStats,
    *,
    open_registrations: bool,
    policy: dict[str, Any],
) -> dict[str, Any]:
    software: dict[str, Any] = {"name": "fedinode", "version": settings.software_version}
    if version == "2.1":
        software["homepage"] = settings.base_url
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": stats.user_count,
                "activeMonth": stats.active_month,
                "activeHalfyear": stats.active_halfyear,
            },
            "localPosts": stats.local_posts,
        },
        "metadata": {"nodeName": settings.title, "federation": policy},
    }
