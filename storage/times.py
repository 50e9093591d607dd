"""The text forms of a timestamp, named by what they produce.

Times are milliseconds since the epoch throughout (as stored, see ``ids.now_ms``). The Mastodon
client API writes ISO 8601 with milliseconds and ``Z``; ActivityStreams documents carry whole
seconds with ``Z``, as Mastodon sends them. HTTP dates (RFC 9110, for ``Date`` headers and
signatures) are another form again and live with the signatures in ``activitypub``.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import overload

_DAY_MS = 86_400_000
_EPOCH_DAY = date(1970, 1, 1)


@lru_cache(maxsize=4096)
def _day(days: int) -> str:
    """``YYYY-MM-DD`` of the day ``days`` after 1970-01-01 (UTC; kept: pages repeat days)."""
    try:
        return (_EPOCH_DAY + timedelta(days=days)).isoformat()
    except OverflowError:
        raise ValueError(f"day {days} is outside years 1–9999") from None


def _clock(ms: int) -> tuple[str, int, int, int, int]:
    """The UTC day, hour, minute, second and millisecond of ``ms``, by integer arithmetic:
    ``datetime.fromtimestamp`` and ``strftime`` cost 5–6 µs a timestamp, and a page has
    dozens."""
    days, rest = divmod(ms, _DAY_MS)
    seconds, milli = divmod(rest, 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return _day(days), hours, minutes, secs, milli


@overload
def api_datetime(ms: int) -> str: ...
@overload
def api_datetime(ms: None) -> None: ...
def api_datetime(ms: int | None) -> str | None:
    """Mastodon API timestamps: ``2026-11-29T20:15:00.000Z``; None stays None."""
    if ms is None:
        return None
    day, h, m, s, milli = _clock(ms)
    return f"{day}T{h:02d}:{m:02d}:{s:02d}.{milli:03d}Z"


@overload
def api_date(ms: int) -> str: ...
@overload
def api_date(ms: None) -> None: ...
def api_date(ms: int | None) -> str | None:
    """Mastodon API dates without a time (``last_status_at``): ``2026-11-29``."""
    if ms is None:
        return None
    return _day(ms // _DAY_MS)


def api_day_start(ms: int) -> str:
    """The start of the day, as Mastodon gives accounts' ``created_at``:
    ``2026-11-29T00:00:00.000Z``."""
    return f"{_day(ms // _DAY_MS)}T00:00:00.000Z"


def as2_datetime(ms: int) -> str:
    """ActivityStreams ``published``/``updated``/``endTime``: ``2026-11-29T20:15:00Z``."""
    day, h, m, s, _ = _clock(ms)
    return f"{day}T{h:02d}:{m:02d}:{s:02d}Z"
