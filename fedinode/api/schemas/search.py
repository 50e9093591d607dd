"""Search results (v2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedinode.api.schemas.accounts import account_to_api
from fedinode.api.schemas.statuses import statuses_to_api
from fedinode.api.schemas.tags import tag_view_to_api
from fedinode.config import Config

if TYPE_CHECKING:
    from fedinode.api import entities as e

if TYPE_CHECKING:
    # Types only: services import this module (streaming), so no import cycle at run time.
    from fedinode.services.search import SearchPage


def search_to_api(found: SearchPage, config: Config, viewer_id: int | None) -> e.Search:
    base = config.base_url
    return {
        "accounts": [account_to_api(a, base) for a in found.accounts],
        "statuses": statuses_to_api(found.statuses, config, viewer_id),
        "hashtags": [tag_view_to_api(t, base) for t in found.hashtags],
    }
