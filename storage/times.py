"""The text forms of a timestamp, named by what they produce.

Times are milliseconds since the epoch throughout (as stored, see ``ids.now_ms``). The Mastodon
client API writes ISO 8601 with milliseconds and ``Z``; ActivityStreams documents carry whole
seconds with ``Z``, as Mastodon sends them. HTTP dates (RFC 9110, for ``Date`` headers and
signatures) are another form again and live with the signatures in ``activitypub``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def _utc(ms: int) -> datetime:
    # Whole seconds as an integer: no float rounding can carry .999 into the next second.
    return datetime.fromtimestamp(ms // 1000, UTC)


@overload
def api_datetime(ms: int) -> str: ...
@overload
def api_datetime(ms: None) -> None: ...
def api_datetime(ms: int | None) -> str | None:
    """Mastodon API timestamps: ``2026-11-29T20:15:00.000Z``; None stays None."""
    if ms is None:
        return None
    return _utc(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@overload
def api_date(ms: int) -> str: ...
@overload
def api_date(ms: None) -> None: ...
def api_date(ms: int | None) -> str | None:
    """Mastodon API dates without a time (``last_status_at``): ``2026-11-29``."""
    if ms is None:
        return None
    return _utc(ms).strftime("%Y-%m-%d")


def api_day_start(ms: int) -> str:
    """The start of the day, as Mastodon gives accounts' ``created_at``:
    ``2026-11-29T00:00:00.000Z``."""
    return _utc(ms).strftime("%Y-%m-%dT00:00:00.000Z")


def as2_datetime(ms: int) -> str:
    """ActivityStreams ``published``/``updated``/``endTime``: ``2026-11-29T20:15:00Z``."""
    return _utc(ms).strftime("%Y-%m-%dT%H:%M:%SZ")
