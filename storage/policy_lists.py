"""Published policy lists and subscriptions: marks on domain rules, subscriptions, drafts,
and the instance actor's Ed25519 signing key."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import orjson

from storage.db import Database
from storage.errors import Conflict
from storage.ids import new_id, now_ms
from storage.rows import build, build_all, build_opt


@dataclass(frozen=True, slots=True)
class PolicyMarkRow:
    kind: str  # "block" | "allow"
    domain: str
    published: bool
    subscription_id: int | None
    public_comment: str
    updated_at: int


@dataclass(frozen=True, slots=True)
class SubscriptionRow:
    id: int
    url: str
    title: str
    priority: int
    mode: str  # "apply" | "review"
    excludes: list[str]
    severities: list[str]
    allow_unsigned: bool
    from_config: bool
    created_at: int
    updated_at: int
    next_sync_at: int
    fetched_at: int | None
    successfully_fetched_at: int | None
    error: str
    count: int
    content_type: str
    signed_by: str


@dataclass(frozen=True, slots=True)
class DraftRow:
    id: int
    subscription_id: int
    kind: str
    domain: str
    severity: str
    reject_media: bool
    reject_reports: bool
    obfuscate: bool
    public_comment: str
    created_at: int


@dataclass(frozen=True, slots=True)
class MultikeyRow:
    account_id: int
    key_id: str
    private_multibase: str
    created_at: int


# What may be set on a subscription after it is made.
SUBSCRIPTION_FIELDS = ("title", "priority", "mode", "excludes", "severities", "allow_unsigned")
DRAFT_FIELDS = tuple(
    f.name for f in fields(DraftRow) if f.name not in ("id", "subscription_id", "created_at")
)


def _dump(name: str, value: Any) -> Any:
    return orjson.dumps(list(value)).decode() if name in ("excludes", "severities") else value


class PolicyListStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- marks ----------------------------------------------------------------------------

    async def marks(self) -> list[PolicyMarkRow]:
        return build_all(
            PolicyMarkRow,
            await self._db.fetch("SELECT * FROM policy_list_marks ORDER BY kind, domain"),
        )

    async def mark(self, kind: str, domain: str) -> PolicyMarkRow | None:
        return build_opt(
            PolicyMarkRow,
            await self._db.fetchrow(
                "SELECT * FROM policy_list_marks WHERE kind = $1 AND domain = $2", kind, domain
            ),
        )

    async def set_mark(
        self,
        kind: str,
        domain: str,
        *,
        published: bool | None = None,
        subscription_id: int | bool | None = False,
        public_comment: str | None = None,
    ) -> PolicyMarkRow:
        """Insert or change the mark of one rule; ``subscription_id=False`` leaves it as it is."""
        current = await self.mark(kind, domain)
        new_published = (
            published if published is not None else (current.published if current else False)
        )
        if subscription_id is False:
            new_sub = current.subscription_id if current else None
        else:
            new_sub = subscription_id if isinstance(subscription_id, int) else None
        comment = (
            public_comment
            if public_comment is not None
            else (current.public_comment if current else "")
        )
        row = await self._db.fetchrow(
            "INSERT INTO policy_list_marks (kind, domain, published, subscription_id,"
            " public_comment, updated_at) VALUES ($1, $2, $3, $4, $5, $6)"
            " ON CONFLICT (kind, domain) DO UPDATE SET published = excluded.published,"
            " subscription_id = excluded.subscription_id,"
            " public_comment = excluded.public_comment, updated_at = excluded.updated_at"
            " RETURNING *",
            kind,
            domain,
            new_published,
            new_sub,
            comment,
            now_ms(),
        )
        assert row is not None
        return build(PolicyMarkRow, row)

    async def release_subscription(self, subscription_id: int) -> int:
        """A subscription is gone: what it managed becomes the admin's (orphans kept)."""
        return await self._db.execute(
            "UPDATE policy_list_marks SET subscription_id = NULL WHERE subscription_id = $1",
            subscription_id,
        )

    # -- subscriptions --------------------------------------------------------------------

    async def subscriptions(self) -> list[SubscriptionRow]:
        """Every subscription, highest priority first."""
        return build_all(
            SubscriptionRow,
            await self._db.fetch("SELECT * FROM policy_subscriptions ORDER BY priority DESC, id"),
        )

    async def subscription(self, subscription_id: int) -> SubscriptionRow | None:
        return build_opt(
            SubscriptionRow,
            await self._db.fetchrow(
                "SELECT * FROM policy_subscriptions WHERE id = $1", subscription_id
            ),
        )

    async def subscription_by_url(self, url: str) -> SubscriptionRow | None:
        return build_opt(
            SubscriptionRow,
            await self._db.fetchrow("SELECT * FROM policy_subscriptions WHERE url = $1", url),
        )

    async def create_subscription(
        self, url: str, *, from_config: bool = False, **values: Any
    ) -> SubscriptionRow:
        unknown = set(values) - set(SUBSCRIPTION_FIELDS)
        if unknown:
            raise ValueError(f"unknown subscription fields: {sorted(unknown)}")
        now = now_ms()
        names = ["id", "url", "from_config", "created_at", "updated_at", *values]
        marks = ", ".join(f"${i}" for i in range(1, len(names) + 1))
        row = await self._db.fetchrow(
            f"INSERT INTO policy_subscriptions ({', '.join(names)}) VALUES ({marks})"
            " ON CONFLICT (url) DO NOTHING RETURNING *",
            new_id(),
            url,
            from_config,
            now,
            now,
            *(_dump(k, v) for k, v in values.items()),
        )
        if row is None:
            raise Conflict(f"already subscribed to {url}")
        return build(SubscriptionRow, row)

    async def update_subscription(
        self, subscription_id: int, **values: Any
    ) -> SubscriptionRow | None:
        unknown = set(values) - set(SUBSCRIPTION_FIELDS)
        if unknown:
            raise ValueError(f"unknown subscription fields: {sorted(unknown)}")
        if not values:
            return await self.subscription(subscription_id)
        sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(values, start=1))
        row = await self._db.fetchrow(
            f"UPDATE policy_subscriptions SET {sets}, updated_at = ${len(values) + 1}"
            f" WHERE id = ${len(values) + 2} RETURNING *",
            *(_dump(k, v) for k, v in values.items()),
            now_ms(),
            subscription_id,
        )
        return build_opt(SubscriptionRow, row)

    async def delete_subscription(self, subscription_id: int) -> SubscriptionRow | None:
        await self.release_subscription(subscription_id)
        return build_opt(
            SubscriptionRow,
            await self._db.fetchrow(
                "DELETE FROM policy_subscriptions WHERE id = $1 RETURNING *", subscription_id
            ),
        )

    async def claim_due(self, subscription_id: int, seen_next: int, next_at: int) -> bool:
        """Take a due sync for this process: only one process moves ``next_sync_at`` on."""
        changed = await self._db.execute(
            "UPDATE policy_subscriptions SET next_sync_at = $1 WHERE id = $2 AND next_sync_at = $3",
            next_at,
            subscription_id,
            seen_next,
        )
        return changed == 1

    async def record_fetch(
        self,
        subscription_id: int,
        *,
        ok: bool,
        error: str = "",
        count: int | None = None,
        content_type: str = "",
        signed_by: str = "",
    ) -> None:
        now = now_ms()
        if ok:
            await self._db.execute(
                "UPDATE policy_subscriptions SET fetched_at = $1, successfully_fetched_at = $1,"
                " error = '', count = $2, content_type = $3, signed_by = $4 WHERE id = $5",
                now,
                count or 0,
                content_type,
                signed_by,
                subscription_id,
            )
        else:
            await self._db.execute(
                "UPDATE policy_subscriptions SET fetched_at = $1, error = $2 WHERE id = $3",
                now,
                error[:500],
                subscription_id,
            )

    # -- drafts ---------------------------------------------------------------------------

    async def drafts(self, subscription_id: int | None = None) -> list[DraftRow]:
        if subscription_id is None:
            rows = await self._db.fetch("SELECT * FROM policy_drafts ORDER BY id")
        else:
            rows = await self._db.fetch(
                "SELECT * FROM policy_drafts WHERE subscription_id = $1 ORDER BY id",
                subscription_id,
            )
        return build_all(DraftRow, rows)

    async def draft(self, draft_id: int) -> DraftRow | None:
        return build_opt(
            DraftRow,
            await self._db.fetchrow("SELECT * FROM policy_drafts WHERE id = $1", draft_id),
        )

    async def put_draft(self, subscription_id: int, kind: str, domain: str, **values: Any) -> bool:
        """Add a draft unless the subscription already left one for this rule; True if new."""
        unknown = set(values) - set(DRAFT_FIELDS)
        if unknown:
            raise ValueError(f"unknown draft fields: {sorted(unknown)}")
        names = ["id", "subscription_id", "kind", "domain", "created_at", *values]
        marks = ", ".join(f"${i}" for i in range(1, len(names) + 1))
        row = await self._db.fetchrow(
            f"INSERT INTO policy_drafts ({', '.join(names)}) VALUES ({marks})"
            " ON CONFLICT (subscription_id, kind, domain) DO NOTHING RETURNING id",
            new_id(),
            subscription_id,
            kind,
            domain,
            now_ms(),
            *values.values(),
        )
        return row is not None

    async def delete_draft(self, draft_id: int) -> DraftRow | None:
        return build_opt(
            DraftRow,
            await self._db.fetchrow(
                "DELETE FROM policy_drafts WHERE id = $1 RETURNING *", draft_id
            ),
        )

    # -- the instance actor's signing key -------------------------------------------------

    async def multikey(self, account_id: int) -> MultikeyRow | None:
        return build_opt(
            MultikeyRow,
            await self._db.fetchrow(
                "SELECT * FROM instance_multikeys WHERE account_id = $1", account_id
            ),
        )

    async def create_multikey(
        self, account_id: int, key_id: str, private_multibase: str
    ) -> MultikeyRow:
        """Keep the first key made (processes starting together agree on one)."""
        await self._db.execute(
            "INSERT INTO instance_multikeys (account_id, key_id, private_multibase, created_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (account_id) DO NOTHING",
            account_id,
            key_id,
            private_multibase,
            now_ms(),
        )
        found = await self.multikey(account_id)
        assert found is not None
        return found
