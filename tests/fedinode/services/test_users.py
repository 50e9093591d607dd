"""Local user creation: the names WebFinger gives to the instance actor stay its own."""

from __future__ import annotations

import pytest

from activitypub.urls import Urls
from fedinode.errors import ValidationFailed
from fedinode.services.users import create_local_user
from storage.store import Store


@pytest.mark.parametrize(
    ("base", "username"),
    [
        ("http://localhost:8080", "localhost"),  # the bare host of a domain with a port
        ("https://localhost", "LocalHost"),  # the domain itself, in any case
        ("https://social.example", "instance.actor"),
    ],
)
async def test_instance_actor_names_are_reserved(store: Store, base: str, username: str) -> None:
    with pytest.raises(ValidationFailed):
        await create_local_user(
            store, Urls(base), username=username, email="x@example.org", password="long enough pw"
        )
    assert await store.accounts.by_handle(username, "") is None


async def test_other_names_stay_free(store: Store) -> None:
    _, account = await create_local_user(
        store,
        Urls("http://localhost:8080"),
        username="localhost_fan",
        email="f@example.org",
        password="long enough pw",
    )
    assert account.username == "localhost_fan"
