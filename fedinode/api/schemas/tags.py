"""The full Tag entity: from a tag row, a service's TagView, or a trend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from storage.ids import now_ms
from storage.models import Tag
from storage.tags import TagDay

if TYPE_CHECKING:
    from fedinode.api import entities as e

if TYPE_CHECKING:
    # Types only: services import this module (streaming), so no import cycle at run time.
    from fedinode.services.search import TagView


def tag_entity_to_api(
    tag: Tag, base_url: str, history: Sequence[TagDay], *, following: bool | None
) -> e.Tag:
    """The full Tag entity (id, usage history of the last days, and ``following`` for a user)."""
    out: e.Tag = {
        "id": str(tag.id),
        "name": tag.display_name or tag.name,
        "url": f"{base_url}/tags/{tag_path(tag)}",
        "history": [
            {"day": str(d.day // 1000), "uses": str(d.uses), "accounts": str(d.accounts)}
            for d in history
        ],
    }
    if following is not None:
        out["following"] = following
    return out


def tag_view_to_api(view: TagView, base_url: str) -> e.Tag:
    return tag_entity_to_api(view.tag, base_url, view.history, following=view.following)


def trend_tag_to_api(tag: Tag, uses: int, accounts: int, base_url: str) -> e.Tag:
    day = now_ms() // 86_400_000 * 86_400
    return {
        "id": str(tag.id),
        "name": tag.display_name or tag.name,
        "url": f"{base_url}/tags/{tag_path(tag)}",
        "history": [{"day": str(day), "uses": str(uses), "accounts": str(accounts)}],
        "following": False,
    }


def tag_path(tag: Tag) -> str:
    """The name as first written, case-folded: a readable URL (/tags/été) its key finds."""
    return (tag.display_name or tag.name).casefold()
