"""Invites and one-time user tokens (e-mail confirmation, password reset)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from storage.db import Database
from storage.ids import new_id, now_ms
from storage.rows import build, build_all, build_opt


def token_digest(raw: str) -> str:
    """What is stored of a one-time token or invite-free secret: its SHA-256 hex digest."""
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Invite:
    id: int
    code: str
    created_by: int | None
    comment: str
    max_uses: int | None  # None: unlimited
    uses: int
    expires_at: int | None  # ms; None: never
    revoked_at: int | None
    created_at: int

    def usable(self, now: int) -> bool:
        return (
            self.revoked_at is None
            and (self.max_uses is None or self.uses < self.max_uses)
            and (self.expires_at is None or self.expires_at > now)
        )


class InviteStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        code: str,
        *,
        created_by: int | None,
        max_uses: int | None,
        expires_at: int | None,
        comment: str = "",
    ) -> Invite:
        row = await self._db.fetchrow(
            "INSERT INTO invites (id, code, created_by, comment, max_uses, expires_at, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
            new_id(),
            code,
            created_by,
            comment,
            max_uses,
            expires_at,
            now_ms(),
        )
        assert row is not None
        return build(Invite, row)

    async def get(self, invite_id: int) -> Invite | None:
        return build_opt(
            Invite, await self._db.fetchrow("SELECT * FROM invites WHERE id = $1", invite_id)
        )

    async def by_code(self, code: str) -> Invite | None:
        return build_opt(
            Invite, await self._db.fetchrow("SELECT * FROM invites WHERE code = $1", code)
        )

    async def all(self, *, include_revoked: bool = False) -> list[Invite]:
        where = "" if include_revoked else " WHERE revoked_at IS NULL"
        rows = await self._db.fetch(f"SELECT * FROM invites{where} ORDER BY id DESC")
        return build_all(Invite, rows)

    async def revoke(self, invite_id: int) -> Invite | None:
        row = await self._db.fetchrow(
            "UPDATE invites SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING *",
            now_ms(),
            invite_id,
        )
        return build_opt(Invite, row)


class UserTokenStore:
    """Single-use, expiring tokens sent by e-mail; only their digests are stored."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, user_id: int, purpose: str, raw: str, *, ttl_ms: int) -> None:
        """A new token for ``purpose``; earlier unused ones for it stop working."""
        now = now_ms()
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE user_tokens SET used_at = $1"
                " WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
                now,
                user_id,
                purpose,
            )
            await tx.execute(
                "INSERT INTO user_tokens (id, user_id, purpose, token_hash, expires_at, created_at)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                new_id(),
                user_id,
                purpose,
                token_digest(raw),
                now + ttl_ms,
                now,
            )

    async def peek(self, raw: str, purpose: str) -> int | None:
        """The user a live token belongs to, without using it up."""
        value = await self._db.fetchval(
            "SELECT user_id FROM user_tokens WHERE token_hash = $1 AND purpose = $2"
            " AND used_at IS NULL AND expires_at > $3",
            token_digest(raw),
            purpose,
            now_ms(),
        )
        return None if value is None else int(value)

    async def take(self, raw: str, purpose: str) -> int | None:
        """Use a live token up; the user it belongs to, or None (unknown, used, expired)."""
        row = await self._db.fetchrow(
            "UPDATE user_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3"
            " AND used_at IS NULL AND expires_at > $1 RETURNING user_id",
            now_ms(),
            token_digest(raw),
            purpose,
        )
        return None if row is None else int(row["user_id"])

    async def prune_expired(self, now: int, *, batch: int = 5000) -> int:
        """Forget tokens expired by ``now`` (used or not), in batches; how many."""
        return await delete_expired(self._db, "user_tokens", now, batch)


async def delete_expired(
    db: Database, table: str, now: int, batch: int, *, key: str = "id"
) -> int:
    """Delete the rows of ``table`` whose ``expires_at`` is past, ``batch`` at a time (short
    transactions; ``key`` is the table's primary key); how many."""
    total = 0
    while True:
        deleted = await db.execute(
            f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table}"
            " WHERE expires_at <= $1 LIMIT $2)",
            now,
            batch,
        )
        total += deleted
        if deleted < batch:
            return total
