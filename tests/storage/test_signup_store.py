"""Invites counted with the sign-up they admit, one-time user tokens and the mail outbox,
on both backends."""

from __future__ import annotations

import asyncio

import pytest

from storage.accounts import NewAccount
from storage.errors import InviteUnusable
from storage.ids import now_ms
from storage.mail import DEAD, QUEUED
from storage.models import User
from storage.signups import token_digest
from storage.store import Store


def _new(name: str) -> NewAccount:
    return NewAccount(username=name, domain="", uri=f"http://local.test/users/{name}",
                      inbox_url=f"http://local.test/users/{name}/inbox")  # fmt: skip


async def _join(store: Store, name: str, invite_id: int | None, **kw: object) -> User:
    user, _ = await store.users.create(
        _new(name),
        email=f"{name}@local.test",
        password_hash="x",
        invite_id=invite_id,
        **kw,  # type: ignore[arg-type]
    )
    return user


async def test_an_invite_admits_up_to_its_limit(store: Store) -> None:
    invite = await store.invites.create("abc", created_by=None, max_uses=2, expires_at=None)
    one = await _join(store, "one", invite.id, approved=True, reason="books", locale="fa")
    assert (one.invite_id, one.reason, one.locale, one.approved) == (invite.id, "books", "fa", True)
    await _join(store, "two", invite.id)
    with pytest.raises(InviteUnusable):
        await _join(store, "three", invite.id)
    # refused as a whole: no account is left behind
    assert await store.accounts.by_handle("three") is None
    after = await store.invites.by_code("abc")
    assert after is not None and after.uses == 2 and not after.usable(now_ms())


async def test_concurrent_sign_ups_never_exceed_the_limit(store: Store) -> None:
    invite = await store.invites.create("race", created_by=None, max_uses=1, expires_at=None)
    results = await asyncio.gather(
        *(_join(store, f"racer{i}", invite.id) for i in range(4)), return_exceptions=True
    )
    assert sum(isinstance(r, User) for r in results) == 1
    assert all(isinstance(r, User | InviteUnusable) for r in results), results


async def test_revoked_and_expired_invites_admit_nobody(store: Store) -> None:
    expired = await store.invites.create("old", created_by=None, max_uses=None,
                                         expires_at=now_ms() - 1)  # fmt: skip
    with pytest.raises(InviteUnusable):
        await _join(store, "late", expired.id)
    live = await store.invites.create("live", created_by=None, max_uses=None, expires_at=None)
    revoked = await store.invites.revoke(live.id)
    assert revoked is not None and revoked.revoked_at is not None
    with pytest.raises(InviteUnusable):
        await _join(store, "gone", live.id)
    assert await store.invites.revoke(12345) is None
    assert [i.code for i in await store.invites.all()] == ["old"]
    assert {i.code for i in await store.invites.all(include_revoked=True)} == {"old", "live"}


async def test_users_made_before_start_confirmed_and_new_ones_may_not_be(store: Store) -> None:
    made = await _join(store, "made", None)
    assert made.confirmed
    waiting = await _join(store, "waiting", None, confirmed=False)
    assert waiting.confirmed_at is None and not waiting.confirmed
    done = await store.users.update(waiting.id, confirmed_at=now_ms())
    assert done.confirmed


async def test_one_time_tokens(store: Store) -> None:
    user = await _join(store, "alice", None)
    await store.user_tokens.create(user.id, "confirm", "first", ttl_ms=60_000)
    stored = await store.db.fetchval("SELECT token_hash FROM user_tokens")
    assert stored == token_digest("first") and stored != "first"
    assert await store.user_tokens.peek("first", "confirm") == user.id
    assert await store.user_tokens.take("first", "reset") is None  # another purpose
    await store.user_tokens.create(user.id, "confirm", "second", ttl_ms=60_000)
    assert await store.user_tokens.take("first", "confirm") is None  # replaced
    assert await store.user_tokens.take("second", "confirm") == user.id
    assert await store.user_tokens.take("second", "confirm") is None  # used
    await store.user_tokens.create(user.id, "reset", "stale", ttl_ms=-1)
    assert await store.user_tokens.peek("stale", "reset") is None
    assert await store.user_tokens.take("stale", "reset") is None


async def test_mail_outbox(store: Store) -> None:
    first = await store.mail.enqueue("a@example.org", "Hello", "body with a link")
    second = await store.mail.enqueue("b@example.org", "Hi", "another")
    due = await store.mail.due(10)
    assert [m.id for m in due] == [first, second] and due[0].attempts == 0
    assert await store.mail.due(10) == []  # leased while being sent
    await store.mail.sent(first)
    await store.mail.failed(second, "connection refused", retry_at=now_ms() - 1)
    [again] = await store.mail.due(10)
    assert again.id == second and again.attempts == 1 and again.last_error == "connection refused"
    await store.mail.failed(second, "still refused", retry_at=None)
    assert await store.mail.by_state() == {DEAD: 1}
    assert await store.db.fetchval("SELECT body FROM mail_outbox") == ""
    assert QUEUED == "queued"


async def test_two_senders_never_take_the_same_mail(store: Store) -> None:
    ids = {await store.mail.enqueue(f"{i}@example.org", "s", "b") for i in range(6)}
    first, second = await asyncio.gather(store.mail.due(10), store.mail.due(10))
    taken = [m.id for m in first] + [m.id for m in second]
    assert sorted(taken) == sorted(ids)


async def test_a_user_written_without_the_new_columns_is_confirmed(store: Store) -> None:
    alice = await _join(store, "alice", None)
    await store.db.execute("DELETE FROM users WHERE id = $1", alice.id)
    await store.db.execute(
        "INSERT INTO users (id, account_id, email, password_hash, created_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        alice.id, alice.account_id, "alice@local.test", "x", 1,
    )  # fmt: skip
    again = await store.users.get(alice.id)
    assert again is not None and again.confirmed and again.reason == ""
