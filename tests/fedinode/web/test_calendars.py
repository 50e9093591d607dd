"""Dates in the viewer's calendar: Solar Hijri for Persian, Babel's Gregorian otherwise."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from fedinode.web.calendars import format_date, format_datetime, to_persian


@pytest.mark.parametrize(
    ("gregorian", "persian"),
    [
        (date(2024, 3, 20), (1403, 1, 1)),  # Nowruz of a year after a leap year
        (date(2024, 3, 19), (1402, 12, 29)),
        (date(2025, 3, 20), (1403, 12, 30)),  # 1403 is a leap year
        (date(2025, 3, 21), (1404, 1, 1)),
        (date(2026, 3, 21), (1405, 1, 1)),
        (date(2026, 11, 30), (1405, 9, 9)),
        (date(2023, 12, 22), (1402, 10, 1)),  # Yalda, 1 Dey
        (date(1979, 2, 11), (1357, 11, 22)),
        (date(2025, 9, 22), (1403 + 1, 6, 31)),  # the last day of the 31-day months
        (date(2025, 9, 23), (1404, 7, 1)),
    ],
)
def test_solar_hijri(gregorian: date, persian: tuple[int, int, int]) -> None:
    assert to_persian(gregorian) == persian


def test_formats() -> None:
    ms = int(datetime(2026, 11, 30, 14, 5, tzinfo=UTC).timestamp() * 1000)
    assert format_date(ms, "fa") == "۹ آذر ۱۴۰۵"
    assert format_datetime(ms, "fa") == "۹ آذر ۱۴۰۵، ۱۴:۰۵ (UTC)"
    assert format_date(ms, "en") == "Nov 30, 2026"
    assert format_datetime(ms, "en") == "30 Nov 2026, 14:05 (UTC)"
