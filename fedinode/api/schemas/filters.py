"""Filter (v2) with its keywords and statuses, the v1 Filter, FilterResult."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from fedinode.api.schemas.times import iso
from storage.filters import FilterStatus
from storage.models import Filter, FilterKeyword

if TYPE_CHECKING:
    from fedinode.api import entities as e

if TYPE_CHECKING:
    # Types only: services import this module (streaming), so no import cycle at run time.
    from fedinode.services.filters import FilterMatch


def filter_keyword_to_api(keyword: FilterKeyword) -> e.FilterKeyword:
    return {
        "id": str(keyword.id),
        "keyword": keyword.keyword,
        "whole_word": bool(keyword.whole_word),
    }


def filter_status_to_api(fs: FilterStatus) -> e.FilterStatus:
    return {"id": str(fs.id), "status_id": str(fs.status_id)}


def filter_to_api(f: Filter, statuses: Sequence[FilterStatus]) -> e.Filter:
    """Filter entity (v2)."""
    return {
        "id": str(f.id),
        "title": f.title,
        "context": list(f.contexts),
        "expires_at": iso(f.expires_at),
        "filter_action": f.action,
        "keywords": [filter_keyword_to_api(k) for k in f.keywords],
        "statuses": [filter_status_to_api(s) for s in statuses],
    }


def filter_v1_to_api(f: Filter, keyword: FilterKeyword) -> e.V1Filter:
    """V1 Filter entity: one keyword of a v2 filter, as older apps expect."""
    return {
        "id": str(keyword.id),
        "phrase": keyword.keyword,
        "context": list(f.contexts),
        "whole_word": bool(keyword.whole_word),
        "expires_at": iso(f.expires_at),
        "irreversible": f.action == "hide",
    }


def filter_result_to_api(match: FilterMatch) -> e.FilterResult:
    """FilterResult: which filter matched a status, by keyword or by the status itself."""
    return {
        "filter": filter_to_api(match.filter, match.statuses),
        "keyword_matches": match.keyword_matches,
        "status_matches": match.status_matches,
    }
