"""Times as peers send them, to integer milliseconds."""

from __future__ import annotations

from activitypub.fields import parse_datetime


def ms_from_iso(value: object) -> int | None:
    parsed = parse_datetime(value)
    if parsed is None:
        return None
    try:
        return int(parsed.timestamp() * 1000)
    except (OverflowError, ValueError):
        return None
