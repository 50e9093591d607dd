"""Visibility as an enum over the strings Mastodon and the database use."""

from __future__ import annotations

from factories import local_account, post

from storage.models import OPEN_VISIBILITIES, Visibility
from storage.store import Store


def test_values_are_mastodons() -> None:
    assert [v.value for v in Visibility] == ["public", "unlisted", "private", "direct"]
    assert OPEN_VISIBILITIES == {"public", "unlisted"}
    assert "private" not in OPEN_VISIBILITIES and "direct" not in OPEN_VISIBILITIES


async def test_an_enum_value_is_stored_and_read_back_as_its_string(store: Store) -> None:
    alice = await local_account(store, "alice")
    for visibility in Visibility:
        status = await post(store, alice, f"to {visibility}", visibility=visibility)
        again = await store.statuses.get(status.id)
        assert again is not None
        assert again.visibility == visibility
        assert type(again.visibility) is str and again.visibility == visibility.value
