"""What apps keep beside timelines: List, Marker, Conversation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from fedinode.api.schemas.accounts import account_to_api
from fedinode.api.schemas.statuses import status_to_api
from fedinode.api.schemas.times import iso
from fedinode.config import Config
from storage.models import ListRow, Marker

if TYPE_CHECKING:
    from fedinode.api import entities as e

if TYPE_CHECKING:
    # Types only: services import this module (streaming), so no import cycle at run time.
    from fedinode.services.conversations import ConversationView


def list_to_api(row: ListRow) -> e.List:
    return {
        "id": str(row.id),
        "title": row.title,
        "replies_policy": row.replies_policy,
        "exclusive": bool(row.exclusive),
    }


def marker_to_api(marker: Marker) -> e.Marker:
    return {
        "last_read_id": marker.last_read_id,
        "version": marker.version,
        "updated_at": iso(marker.updated_at),
    }


def markers_to_api(markers: Mapping[str, Marker]) -> dict[str, e.Marker]:
    """The markers by timeline name (``home``, ``notifications``)."""
    return {name: marker_to_api(m) for name, m in markers.items()}


def conversation_view_to_api(
    view: ConversationView, config: Config, viewer_id: int | None
) -> e.Conversation:
    return {
        "id": str(view.row.id),
        "unread": view.row.unread,
        "accounts": [account_to_api(a, config.base_url) for a in view.accounts],
        "last_status": status_to_api(view.last_status, config, viewer_id),
    }
