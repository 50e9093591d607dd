"""Web Push rows: one subscription per token, the push queue's states, the VAPID secret."""

from __future__ import annotations

from factories import local_account

from storage.ids import now_ms
from storage.models import Account, OAuthToken
from storage.push import NewPushSubscription
from storage.store import Store


async def _token(store: Store, account: Account, raw: str) -> OAuthToken:
    user = await store.users.by_account(account.id)
    assert user is not None
    app = await store.oauth.create_app(name="phone", website=None, redirect_uris="urn:ietf:wg:oauth:2.0:oob",
                                       scopes="push", client_id=f"cid-{raw}", client_secret="sec")  # fmt: skip
    return await store.oauth.create_token(raw, app_id=app.id, user_id=user.id, scopes="push")


def _new(token: OAuthToken, account: Account, endpoint: str, **kw: object) -> NewPushSubscription:
    fields: dict[str, object] = {
        "token_id": token.id, "account_id": account.id, "endpoint": endpoint, "p256dh": "BPK",
        "auth": "AUTH", "standard": False, "alerts": {"mention": True, "follow": False},
        "policy": "all", "access_token": "raw-token",
    }  # fmt: skip
    fields.update(kw)
    return NewPushSubscription(**fields)  # type: ignore[arg-type]


async def test_one_subscription_per_token_replaced_and_updated(store: Store) -> None:
    alice = await local_account(store, "alice")
    token = await _token(store, alice, "t1")
    first = await store.push.subscribe(_new(token, alice, "https://push.example/a"))
    assert first.alerts == {"mention": True, "follow": False} and first.standard is False
    second = await store.push.subscribe(_new(token, alice, "https://push.example/b", standard=True))
    assert second.id != first.id and second.standard is True
    assert [s.endpoint for s in await store.push.live_for_account(alice.id)] == [
        "https://push.example/b"
    ]
    updated = await store.push.update(
        token.id, alerts={"mention": False, "follow": True}, policy="followed"
    )
    assert updated is not None and updated.alerts == {"mention": False, "follow": True}
    assert updated.policy == "followed"
    found = await store.push.for_token(token.id)
    assert found is not None and found.policy == "followed"
    assert await store.push.unsubscribe(token.id)
    assert await store.push.for_token(token.id) is None
    assert await store.push.update(token.id, alerts={}, policy="all") is None


async def test_revoked_token_subscription_is_not_live(store: Store) -> None:
    alice = await local_account(store, "alice")
    token = await _token(store, alice, "t2")
    await store.push.subscribe(_new(token, alice, "https://push.example/a"))
    assert await store.push.token_live(token.id)
    assert await store.oauth.revoke_token("t2")
    assert await store.push.live_for_account(alice.id) == []
    assert not await store.push.token_live(token.id)


async def test_push_queue_claims_retries_and_gives_up(store: Store) -> None:
    alice = await local_account(store, "alice")
    bob = await local_account(store, "bob")
    token = await _token(store, alice, "t3")
    sub = await store.push.subscribe(_new(token, alice, "https://push.example/a"))
    n = await store.notifications.create(alice.id, bob.id, "follow")
    assert n is not None
    assert await store.push.enqueue(n.id, [sub.id]) == 1
    assert await store.push.enqueue(n.id, [sub.id]) == 0  # a repeat is dropped
    assert await store.push.due(now_ms())
    (claimed,) = await store.push.claim(10)
    assert claimed.state == "sending" and claimed.notification_id == n.id
    assert await store.push.claim(10) == []  # leased
    await store.push.retry(claimed.id, "HTTP 503", retry_at=now_ms() + 60_000)
    assert await store.push.claim(10) == []
    assert await store.push.make_due() == 1
    (again,) = await store.push.claim(10)
    assert again.attempts == 1
    await store.push.retry(again.id, "HTTP 503", retry_at=None)
    (row,) = await store.push.deliveries(sub.id)
    assert row.state == "dead" and row.attempts == 2 and row.last_error == "HTTP 503"
    # Removing the subscription (a 410) takes its queued pushes with it.
    assert await store.push.remove(sub.id)
    assert await store.push.deliveries() == []


async def test_vapid_secret_made_once(store: Store) -> None:
    made: list[str] = []

    def make() -> str:
        made.append("k")
        return f"secret-{len(made)}"

    assert await store.push.vapid_private_key(make) == "secret-1"
    assert await store.push.vapid_private_key(make) == "secret-1"
    assert made == ["k"]
