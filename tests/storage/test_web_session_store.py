"""Web login sessions and TOTP state, on both backends: tokens kept as digests, expiry,
ending every session but one, a code step taken once, recovery codes used once."""

from __future__ import annotations

from storage.accounts import NewAccount
from storage.ids import now_ms
from storage.models import User
from storage.signups import token_digest
from storage.store import Store

TEN_MINUTES = 600_000


async def _user(store: Store, name: str) -> User:
    account = NewAccount(username=name, domain="", uri=f"http://local.test/users/{name}",
                         inbox_url=f"http://local.test/users/{name}/inbox")  # fmt: skip
    user, _ = await store.users.create(account, email=f"{name}@local.test", password_hash="x")
    return user


async def test_sessions_expire_and_end(store: Store) -> None:
    alice, bob = await _user(store, "alice"), await _user(store, "bob")
    here = await store.web_sessions.create(alice.id, "here-token", ttl_ms=60_000, user_agent="UA")
    there = await store.web_sessions.create(alice.id, "there-token", ttl_ms=60_000)
    gone = await store.web_sessions.create(alice.id, "old-token", ttl_ms=-1)
    theirs = await store.web_sessions.create(bob.id, "bob-token", ttl_ms=60_000)
    found = await store.web_sessions.by_token("here-token")
    assert found is not None and found.id == here.id and found.user_agent == "UA"
    assert await store.web_sessions.by_token("old-token") is None  # expired
    row = await store.db.fetchrow(
        "SELECT token_hash FROM web_sessions WHERE id = $1", here.id
    )
    assert row is not None and row["token_hash"] == token_digest("here-token")
    assert {s.id for s in await store.web_sessions.for_user(alice.id)} == {here.id, there.id}
    assert await store.web_sessions.prune(alice.id) == 1
    assert gone.id not in [s.id for s in await store.web_sessions.for_user(alice.id)]
    # Another user's session cannot be ended by id.
    assert not await store.web_sessions.delete(theirs.id, user_id=alice.id)
    assert await store.web_sessions.delete_for_user(alice.id, keep_id=here.id) == 1
    assert [s.id for s in await store.web_sessions.for_user(alice.id)] == [here.id]
    assert await store.web_sessions.by_token("bob-token") is not None


async def test_two_factor_state(store: Store) -> None:
    alice = await _user(store, "alice")
    assert (await store.otp.state(alice.id)).enabled_at is None
    await store.otp.begin(alice.id, "SECRETONE")
    assert not await store.otp.take_step(alice.id, 5)  # not on yet
    assert not await store.otp.enable(alice.id, "OTHERSECRET", ["a" * 10])
    assert await store.otp.enable(alice.id, "SECRETONE", ["a" * 10, "b" * 10])
    state = await store.otp.state(alice.id)
    assert state.secret == "SECRETONE" and state.enabled_at is not None
    await store.otp.begin(alice.id, "REPLACED")  # refused while on
    assert (await store.otp.state(alice.id)).secret == "SECRETONE"
    assert await store.otp.take_step(alice.id, 100)
    assert not await store.otp.take_step(alice.id, 100)  # the same code again
    assert not await store.otp.take_step(alice.id, 99)  # an older one
    assert await store.otp.take_step(alice.id, 101)
    assert await store.otp.recovery_codes_left(alice.id) == 2
    assert await store.otp.use_recovery_code(alice.id, "a" * 10)
    assert not await store.otp.use_recovery_code(alice.id, "a" * 10)
    assert await store.otp.recovery_codes_left(alice.id) == 1
    await store.otp.disable(alice.id)
    assert await store.otp.state(alice.id) == type(state)(None, None)
    assert await store.otp.recovery_codes_left(alice.id) == 0


async def test_expired_sessions_and_tokens_of_every_user_are_pruned(store: Store) -> None:
    alice, bob = await _user(store, "alice"), await _user(store, "bob")
    for n in range(5):  # more than one batch
        await store.web_sessions.create(alice.id, f"old-alice-{n}", ttl_ms=-1)
    await store.web_sessions.create(bob.id, "old-bob", ttl_ms=-1)
    await store.web_sessions.create(bob.id, "live-bob", ttl_ms=TEN_MINUTES)
    await store.user_tokens.create(alice.id, "reset", "old-reset", ttl_ms=-1)
    await store.user_tokens.create(bob.id, "confirm", "live-confirm", ttl_ms=TEN_MINUTES)
    now = now_ms()
    assert await store.web_sessions.prune_expired(now, batch=2) == 6
    assert await store.user_tokens.prune_expired(now, batch=2) == 1
    hashes = {r["token_hash"] for r in await store.db.fetch("SELECT token_hash FROM web_sessions")}
    assert hashes == {token_digest("live-bob")}
    assert await store.user_tokens.peek("live-confirm", "confirm") == bob.id
    assert await store.db.fetchval("SELECT COUNT(*) FROM user_tokens") == 1
    # Expiry is at the instant given: the live session goes once that instant is past it.
    assert await store.web_sessions.prune_expired(now) == 0
    assert await store.web_sessions.prune_expired(now + TEN_MINUTES + 1) == 1
    assert await store.user_tokens.prune_expired(now + TEN_MINUTES + 1) == 1
