"""The API's timestamps (Mastodon's ISO 8601 with milliseconds and Z) and dates, under
the names the schemas use; storage.times names them by what they produce."""

from __future__ import annotations

from storage.times import api_date, api_datetime

iso = api_datetime
iso_date = api_date


def at(ms: int) -> str:
    """A time that is always set (``created_at``)."""
    return api_datetime(ms)
