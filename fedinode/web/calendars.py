"""Dates on the pages, in the viewer's calendar.

Babel formats dates from the CLDR data, but only in the Gregorian calendar (it has no
calendar systems). For Persian (``fa``) the pages show the Solar Hijri calendar, Iran's
civil calendar, computed here with the 2820-year breaks table that the jalaali libraries
use (exact for the years 1178–3177 AP); month names and digits are CLDR's Persian ones.
Every other locale gets Babel's Gregorian format. Times are UTC (a page has no time zone
of the viewer) and say so.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from fedinode.web.i18n import digits

_BREAKS = (
    -61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210,
    1635, 2060, 2097, 2192, 2262, 2324, 2394, 2456, 3178,
)  # fmt: skip
PERSIAN_MONTHS = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip


def _div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _mod(a: int, b: int) -> int:
    return a - _div(a, b) * b


def _jal_cal(jy: int) -> tuple[int, int]:
    """(years since the last leap year, 0 meaning ``jy`` is leap; March day of 1 Farvardin)."""
    if not _BREAKS[0] <= jy < _BREAKS[-1]:
        raise ValueError(f"year {jy} is outside the Solar Hijri table")
    gy = jy + 621
    leap_j = -14
    jp = _BREAKS[0]
    jump = 0
    for jm in _BREAKS[1:]:
        jump = jm - jp
        if jy < jm:
            break
        leap_j += _div(jump, 33) * 8 + _div(_mod(jump, 33), 4)
        jp = jm
    n = jy - jp
    leap_j += _div(n, 33) * 8 + _div(_mod(n, 33) + 3, 4)
    if _mod(jump, 33) == 4 and jump - n == 4:
        leap_j += 1
    leap_g = _div(gy, 4) - _div((_div(gy, 100) + 1) * 3, 4) - 150
    march = 20 + leap_j - leap_g
    if jump - n < 6:
        n = n - jump + _div(jump + 4, 33) * 33
    leap = _mod(_mod(n + 1, 33) - 1, 4)
    return (4 if leap == -1 else leap), march


def to_persian(day: date) -> tuple[int, int, int]:
    """The Solar Hijri (year, month, day) of a Gregorian date."""
    jy = day.year - 621
    leap, march = _jal_cal(jy)
    k = day.toordinal() - date(day.year, 3, march).toordinal()
    if k >= 0:
        if k <= 185:
            return jy, 1 + k // 31, k % 31 + 1
        k -= 186
    else:
        jy -= 1
        k += 179
        if leap == 1:
            k += 1
    return jy, 7 + k // 30, k % 30 + 1


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _persian_date(moment: datetime) -> str:
    y, m, d = to_persian(moment.date())
    return digits(f"{d} {PERSIAN_MONTHS[m - 1]} {y}", "fa")


def format_date(ms: int, locale: str) -> str:
    """A day, as the viewer's calendar writes it (``9 آذر 1405`` in Persian digits)."""
    moment = _utc(ms)
    if locale == "fa":
        return _persian_date(moment)
    from babel.dates import format_date as babel_date  # Babel on first use

    return babel_date(moment.date(), "medium", locale=locale)


def format_datetime(ms: int, locale: str) -> str:
    """A day and time (UTC), as the viewer's calendar writes it."""
    moment = _utc(ms)
    if locale == "fa":
        time = digits(f"{moment:%H:%M}", "fa")
        return f"{_persian_date(moment)}، {time} (UTC)"
    from babel.dates import format_datetime as babel_datetime

    return babel_datetime(moment, "d MMM y, HH:mm", tzinfo=UTC, locale=locale) + " (UTC)"
