"""Web Push subscriptions (one per access token) and the queue of pushes to send."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from storage.db import Database
from storage.ids import new_id, now_ms
from storage.rows import build_all, build_opt

VAPID_SECRET = "vapid_private_key"


@dataclass(frozen=True, slots=True)
class PushSubscription:
    id: int
    token_id: int
    account_id: int
    endpoint: str
    p256dh: str  # the subscriber's public key (base64url, uncompressed P-256 point)
    auth: str  # the subscriber's auth secret (base64url, 16 bytes)
    standard: bool  # RFC 8291 aes128gcm; otherwise the legacy aesgcm draft
    alerts: dict[str, bool]
    policy: str  # all | followed | follower | none
    access_token: str
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class NewPushSubscription:
    token_id: int
    account_id: int
    endpoint: str
    p256dh: str
    auth: str
    standard: bool
    alerts: dict[str, bool]
    policy: str
    access_token: str


@dataclass(frozen=True, slots=True)
class PushDelivery:
    id: int
    subscription_id: int
    notification_id: int
    state: str  # queued | sending | retry | done | dead
    attempts: int
    next_attempt_at: int
    created_at: int
    last_error: str | None


class PushStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- subscriptions ----------------------------------------------------------------------

    async def subscribe(self, new: NewPushSubscription) -> PushSubscription:
        """Create the token's subscription, replacing the one it had (Mastodon keeps one per
        token: subscribing again starts afresh, its queued pushes with it)."""
        now = now_ms()
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM push_subscriptions WHERE token_id = $1", new.token_id)
            row = await tx.fetchrow(
                "INSERT INTO push_subscriptions (id, token_id, account_id, endpoint, p256dh, auth,"
                " standard, alerts, policy, access_token, created_at, updated_at)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11) RETURNING *",
                new_id(),
                new.token_id,
                new.account_id,
                new.endpoint,
                new.p256dh,
                new.auth,
                new.standard,
                orjson.dumps(new.alerts).decode(),
                new.policy,
                new.access_token,
                now,
            )
        found = build_opt(PushSubscription, row)
        assert found is not None
        return found

    async def for_token(self, token_id: int) -> PushSubscription | None:
        return build_opt(
            PushSubscription,
            await self._db.fetchrow(
                "SELECT * FROM push_subscriptions WHERE token_id = $1", token_id
            ),
        )

    async def get(self, subscription_id: int) -> PushSubscription | None:
        return build_opt(
            PushSubscription,
            await self._db.fetchrow(
                "SELECT * FROM push_subscriptions WHERE id = $1", subscription_id
            ),
        )

    async def update(
        self, token_id: int, *, alerts: dict[str, bool], policy: str
    ) -> PushSubscription | None:
        return build_opt(
            PushSubscription,
            await self._db.fetchrow(
                "UPDATE push_subscriptions SET alerts = $1, policy = $2, updated_at = $3"
                " WHERE token_id = $4 RETURNING *",
                orjson.dumps(alerts).decode(),
                policy,
                now_ms(),
                token_id,
            ),
        )

    async def unsubscribe(self, token_id: int) -> bool:
        return bool(
            await self._db.execute("DELETE FROM push_subscriptions WHERE token_id = $1", token_id)
        )

    async def remove(self, subscription_id: int) -> bool:
        """Drop a subscription the push service says is gone (404/410)."""
        return bool(
            await self._db.execute("DELETE FROM push_subscriptions WHERE id = $1", subscription_id)
        )

    async def live_for_account(self, account_id: int) -> list[PushSubscription]:
        """The account's subscriptions whose token still works."""
        rows = await self._db.fetch(
            "SELECT s.* FROM push_subscriptions s JOIN oauth_tokens t ON t.id = s.token_id"
            " WHERE s.account_id = $1 AND t.revoked_at IS NULL ORDER BY s.id",
            account_id,
        )
        return build_all(PushSubscription, rows)

    async def token_live(self, token_id: int) -> bool:
        return (
            await self._db.fetchval(
                "SELECT 1 FROM oauth_tokens WHERE id = $1 AND revoked_at IS NULL", token_id
            )
            is not None
        )

    # -- deliveries -------------------------------------------------------------------------

    async def enqueue(self, notification_id: int, subscription_ids: Sequence[int]) -> int:
        """Queue one push per subscription for a notification; a repeat is dropped."""
        now = now_ms()
        added = 0
        for subscription_id in subscription_ids:
            added += await self._db.execute(
                "INSERT INTO push_deliveries (id, subscription_id, notification_id, state,"
                " attempts, next_attempt_at, created_at) VALUES ($1,$2,$3,'queued',0,$4,$4)"
                " ON CONFLICT (subscription_id, notification_id) DO NOTHING",
                new_id(),
                subscription_id,
                notification_id,
                now,
            )
        return added

    async def claim(self, limit: int, *, lease_ms: int = 120_000) -> list[PushDelivery]:
        """Claim due pushes. A claim is a lease: a worker that dies leaves the row to be
        taken again once it runs out, so a crash loses no push."""
        now = now_ms()
        lock = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "postgres" else ""
        rows = await self._db.fetch(
            "UPDATE push_deliveries SET state = 'sending', next_attempt_at = $1 WHERE id IN ("
            " SELECT id FROM push_deliveries WHERE state IN ('queued', 'retry', 'sending')"
            f" AND next_attempt_at <= $2 ORDER BY next_attempt_at LIMIT $3{lock}) RETURNING *",
            now + lease_ms,
            now,
            limit,
        )
        return build_all(PushDelivery, rows)

    async def finish(self, delivery_id: int) -> None:
        await self._db.execute(
            "UPDATE push_deliveries SET state = 'done' WHERE id = $1", delivery_id
        )

    async def retry(self, delivery_id: int, error: str, *, retry_at: int | None) -> None:
        """Try again at ``retry_at``; None gives up (state ``dead``)."""
        await self._db.execute(
            "UPDATE push_deliveries SET state = $1, attempts = attempts + 1, last_error = $2,"
            " next_attempt_at = $3 WHERE id = $4",
            "dead" if retry_at is None else "retry",
            error[:1000],
            retry_at if retry_at is not None else now_ms(),
            delivery_id,
        )

    async def deliveries(self, subscription_id: int | None = None) -> list[PushDelivery]:
        """Every push row (of one subscription), oldest first: for operators and tests."""
        if subscription_id is None:
            rows = await self._db.fetch("SELECT * FROM push_deliveries ORDER BY id")
        else:
            rows = await self._db.fetch(
                "SELECT * FROM push_deliveries WHERE subscription_id = $1 ORDER BY id",
                subscription_id,
            )
        return build_all(PushDelivery, rows)

    async def due(self, now: int) -> bool:
        return (
            await self._db.fetchval(
                "SELECT 1 FROM push_deliveries WHERE state IN ('queued', 'retry', 'sending')"
                " AND next_attempt_at <= $1 LIMIT 1",
                now,
            )
            is not None
        )

    async def make_due(self) -> int:
        """Make every waiting push due now (tests; an operator's "retry now")."""
        return await self._db.execute(
            "UPDATE push_deliveries SET next_attempt_at = $1 WHERE state IN ('queued', 'retry')",
            now_ms(),
        )

    async def prune(self, older_than_ms: int) -> int:
        return await self._db.execute(
            "DELETE FROM push_deliveries WHERE state IN ('done', 'dead') AND created_at < $1",
            older_than_ms,
        )

    # -- keys -------------------------------------------------------------------------------

    async def vapid_private_key(self, make: Callable[[], str]) -> str:
        """The instance's VAPID private key, made by ``make()`` on first use and kept in the
        database, so every process (web and worker) signs with the one key apps were given."""
        value = await self._db.fetchval(
            "SELECT value FROM instance_secrets WHERE name = $1", VAPID_SECRET
        )
        if value is not None:
            return str(value)
        await self._db.execute(
            "INSERT INTO instance_secrets (name, value, created_at) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            VAPID_SECRET,
            make(),
            now_ms(),
        )
        return str(
            await self._db.fetchval(
                "SELECT value FROM instance_secrets WHERE name = $1", VAPID_SECRET
            )
        )
