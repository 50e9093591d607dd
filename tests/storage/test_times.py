"""The text forms of a timestamp: Mastodon's API form, its date-only forms, and the
ActivityStreams form that Mastodon federates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activitypub.convert import activity
from fedinode.api.schemas import iso, iso_date
from storage.times import api_date, api_datetime, api_day_start, as2_datetime


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


MOMENT = ms("2026-11-29T20:15:00") + 7  # 7 ms past the second


def test_api_form_has_milliseconds_and_z() -> None:
    assert api_datetime(ms("2026-11-29T20:15:00")) == "2026-11-29T20:15:00.000Z"
    assert api_datetime(MOMENT) == "2026-11-29T20:15:00.007Z"
    assert api_datetime(MOMENT + 992) == "2026-11-29T20:15:00.999Z"
    assert api_datetime(None) is None
    # Parses back to the same instant.
    assert ms(api_datetime(MOMENT).removesuffix("Z")) == MOMENT


def test_the_last_millisecond_of_a_second_stays_in_it() -> None:
    for second in (0, 1_700_000_000, 4_102_444_799):  # 1970, 2023, the last second of 2099
        assert api_datetime(second * 1000 + 999).endswith(f":{second % 60:02d}.999Z")


def test_date_forms() -> None:
    assert api_date(MOMENT) == "2026-11-29"
    assert api_date(None) is None
    assert api_day_start(MOMENT) == "2026-11-29T00:00:00.000Z"


def test_activitystreams_form_has_whole_seconds() -> None:
    assert as2_datetime(MOMENT + 990) == "2026-11-29T20:15:00Z"


@pytest.mark.parametrize("when", [0, MOMENT, MOMENT + 999, ms("1999-12-31T23:59:59") + 500])
def test_the_old_helpers_give_the_same_text(when: int) -> None:
    """schemas.iso/iso_date are the API forms; activitypub.convert writes the AS2 one."""
    assert iso(when) == api_datetime(when)
    assert iso_date(when) == api_date(when)
    doc = activity("Create", "https://a.example/1", "https://a.example/u", {}, published=when)
    assert doc["published"] == as2_datetime(when)


@given(st.integers(min_value=ms("1000-01-01T00:00:00"), max_value=ms("9999-12-31T23:59:59") + 999))
def test_every_form_is_what_datetime_writes(when: int) -> None:
    """Counted out with integers (a page formats dozens): as datetime formats the instant."""
    moment = datetime.fromtimestamp(when // 1000, UTC)
    assert api_datetime(when) == moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when % 1000:03d}Z"
    assert api_date(when) == moment.strftime("%Y-%m-%d")
    assert api_day_start(when) == moment.strftime("%Y-%m-%dT00:00:00.000Z")
    assert as2_datetime(when) == moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_before_the_epoch_and_out_of_range() -> None:
    assert api_datetime(-1) == "1969-12-31T23:59:59.999Z"
    assert as2_datetime(-1001) == "1969-12-31T23:59:58Z"
    with pytest.raises(ValueError):
        api_datetime(ms("9999-12-31T23:59:59") + 1000)
