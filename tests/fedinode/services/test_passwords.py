"""Password hashes: scrypt at the configured cost, verified at the cost they name, rehashed on
login when the cost changed; the [passwords] settings; changing a password."""

from __future__ import annotations

import pytest

from activitypub.urls import Urls
from fedinode.config import ConfigError, PasswordsConfig, load_config
from fedinode.errors import ValidationFailed
from fedinode.services import oauth
from fedinode.services.passwords import (
    DEFAULT_COST,
    ScryptCost,
    cost_from_config,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from fedinode.services.users import change_password, create_local_user, set_password
from storage.store import Store

CHEAP = ScryptCost(n=1024, r=8, p=1)
PW = "correct horse battery"


def test_a_hash_names_its_cost_and_verifies_at_it() -> None:
    cheap = hash_password(PW, CHEAP)
    assert cheap.startswith("scrypt$1024$8$1$")
    assert verify_password(PW, cheap)
    assert not verify_password(PW + "!", cheap)
    # The default cost does not change how an older hash verifies.
    assert needs_rehash(cheap, DEFAULT_COST)
    assert not needs_rehash(cheap, CHEAP)
    assert not needs_rehash(hash_password(PW), DEFAULT_COST)
    # Two hashes of one password differ (salt).
    assert hash_password(PW, CHEAP) != cheap


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "x",
        "bcrypt$10$abc",
        "scrypt$1000$8$1$AAAA$AAAA",  # N not a power of two
        "scrypt$1048576$64$1$AAAA$AAAA",  # 8 GiB: a corrupt row must not allocate it
        "scrypt$16384$8$1$!!$AAAA",
        "scrypt$16384$8$1$AAAA$",
    ],
)
def test_unreadable_hashes_match_nothing_and_need_a_rehash(stored: str) -> None:
    assert not verify_password(PW, stored)
    assert needs_rehash(stored, DEFAULT_COST)


def test_the_dummy_hash_costs_the_same_and_matches_nothing() -> None:
    dummy = dummy_hash(CHEAP)
    assert not needs_rehash(dummy, CHEAP)
    assert not verify_password("", dummy) and not verify_password(PW, dummy)


def test_cost_setting_defaults_and_limits() -> None:
    assert cost_from_config(load_config(None, environ={}).passwords) == DEFAULT_COST
    config = load_config(None, environ={"FEDINODE_PASSWORDS__SCRYPT_N": "32768"})
    assert cost_from_config(config.passwords) == ScryptCost(n=32768, r=8, p=1)
    assert hash_password(PW, cost_from_config(config.passwords)).startswith("scrypt$32768$8$1$")
    for key, value in [("SCRYPT_N", "1000"), ("SCRYPT_N", "512"), ("SCRYPT_R", "0"),
                       ("SCRYPT_P", "17"), ("SCRYPT_N", "2097152")]:  # fmt: skip
        with pytest.raises(ConfigError) as info:
            load_config(None, environ={f"FEDINODE_PASSWORDS__{key}": value})
        assert info.value.key.startswith("passwords.scrypt_")
    assert PasswordsConfig().scrypt_n == DEFAULT_COST.n


async def test_a_login_with_an_older_cost_stores_a_new_hash(store: Store) -> None:
    user, _ = await create_local_user(
        store, Urls("http://localhost:8080"), username="alice", email="a@example.org",
        password=PW, cost=CHEAP,
    )  # fmt: skip
    assert user.password_hash.startswith("scrypt$1024$")
    # A wrong password changes nothing.
    assert await oauth.check_login(store, "alice", "wrong password", DEFAULT_COST) is None
    assert (await store.users.get(user.id)).password_hash == user.password_hash  # type: ignore[union-attr]

    found = await oauth.check_login(store, "alice", PW, DEFAULT_COST)
    assert found is not None and found.id == user.id
    rehashed = (await store.users.get(user.id)).password_hash  # type: ignore[union-attr]
    assert rehashed.startswith(f"scrypt${DEFAULT_COST.n}$8$1$")
    assert verify_password(PW, rehashed)
    # At the current cost a login stores nothing new.
    assert await oauth.check_login(store, "a@example.org", PW, DEFAULT_COST) is not None
    assert (await store.users.get(user.id)).password_hash == rehashed  # type: ignore[union-attr]


async def test_change_and_set_password(store: Store) -> None:
    user, _ = await create_local_user(
        store, Urls("http://localhost:8080"), username="alice", email="a@example.org",
        password=PW, cost=CHEAP,
    )  # fmt: skip
    one, _ = await oauth.issue_token(store, None, user.id, ["read"])
    _, two = await oauth.issue_token(store, None, user.id, ["read"])
    with pytest.raises(ValidationFailed, match="incorrect"):
        await change_password(store, user, old_password="nope nope", new_password="a new one!",
                              cost=CHEAP, keep_token_id=two.id)  # fmt: skip
    with pytest.raises(ValidationFailed, match="at least 8"):
        await change_password(store, user, old_password=PW, new_password="short",
                              cost=CHEAP, keep_token_id=two.id)  # fmt: skip
    with pytest.raises(ValidationFailed, match="differ"):
        await change_password(store, user, old_password=PW, new_password=PW,
                              cost=CHEAP, keep_token_id=two.id)  # fmt: skip
    assert await store.oauth.token(one) is not None  # nothing changed so far

    revoked = await change_password(store, user, old_password=PW, new_password="a new one!",
                                    cost=CHEAP, keep_token_id=two.id)  # fmt: skip
    assert revoked == 1 and await store.oauth.token(one) is None
    assert await oauth.check_login(store, "alice", "a new one!", CHEAP) is not None
    assert await oauth.check_login(store, "alice", PW, CHEAP) is None

    with pytest.raises(ValidationFailed, match="at most"):
        await set_password(store, user, "x" * 1025, CHEAP)
    assert await set_password(store, user, "an admin's reset", CHEAP) == 1  # the kept one too
