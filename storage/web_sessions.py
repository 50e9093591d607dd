"""Web login sessions (cookie tokens kept as digests) and TOTP two-factor secrets."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database
from storage.ids import new_id, now_ms
from storage.rows import build_all, build_opt
from storage.signups import delete_expired, token_digest


@dataclass(frozen=True, slots=True)
class WebSession:
    id: int
    user_id: int
    user_agent: str
    ip: str
    created_at: int
    last_seen_at: int
    expires_at: int


_COLUMNS = "id, user_id, user_agent, ip, created_at, last_seen_at, expires_at"


class WebSessionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, user_id: int, raw: str, *, ttl_ms: int, user_agent: str = "", ip: str = ""
    ) -> WebSession:
        now = now_ms()
        row = await self._db.fetchrow(
            "INSERT INTO web_sessions (id, user_id, token_hash, user_agent, ip, created_at,"
            f" last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING {_COLUMNS}",
            new_id(),
            user_id,
            token_digest(raw),
            user_agent[:300],
            ip[:64],
            now,
            now + ttl_ms,
        )
        session = build_opt(WebSession, row)
        assert session is not None
        return session

    async def by_token(self, raw: str) -> WebSession | None:
        """The live session of this cookie token (None: unknown or expired)."""
        return build_opt(
            WebSession,
            await self._db.fetchrow(
                f"SELECT {_COLUMNS} FROM web_sessions WHERE token_hash = $1 AND expires_at > $2",
                token_digest(raw),
                now_ms(),
            ),
        )

    async def touch(self, session_id: int, *, ttl_ms: int) -> None:
        now = now_ms()
        await self._db.execute(
            "UPDATE web_sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3",
            now,
            now + ttl_ms,
            session_id,
        )

    async def for_user(self, user_id: int) -> list[WebSession]:
        rows = await self._db.fetch(
            f"SELECT {_COLUMNS} FROM web_sessions WHERE user_id = $1 AND expires_at > $2"
            " ORDER BY last_seen_at DESC",
            user_id,
            now_ms(),
        )
        return build_all(WebSession, rows)

    async def delete(self, session_id: int, *, user_id: int) -> bool:
        row = await self._db.fetchrow(
            "DELETE FROM web_sessions WHERE id = $1 AND user_id = $2 RETURNING id",
            session_id,
            user_id,
        )
        return row is not None

    async def delete_for_user(self, user_id: int, *, keep_id: int | None = None) -> int:
        """End every session of the user but ``keep_id``; how many ended."""
        rows = await self._db.fetch(
            "DELETE FROM web_sessions WHERE user_id = $1 AND id <> $2 RETURNING id",
            user_id,
            keep_id if keep_id is not None else 0,
        )
        return len(rows)

    async def prune(self, user_id: int) -> int:
        """Forget the user's expired sessions (done at each login, so rows stay few)."""
        rows = await self._db.fetch(
            "DELETE FROM web_sessions WHERE user_id = $1 AND expires_at <= $2 RETURNING id",
            user_id,
            now_ms(),
        )
        return len(rows)

    async def prune_expired(self, now: int, *, batch: int = 5000) -> int:
        """Forget every user's sessions expired by ``now``, in batches; how many."""
        return await delete_expired(self._db, "web_sessions", now, batch)


@dataclass(frozen=True, slots=True)
class OtpState:
    secret: str | None  # set while setting up and once enabled
    enabled_at: int | None  # None: two-factor is off


class OtpStore:
    """A user's TOTP secret and single-use recovery codes (digests)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def state(self, user_id: int) -> OtpState:
        row = await self._db.fetchrow(
            "SELECT otp_secret, otp_enabled_at FROM users WHERE id = $1", user_id
        )
        if row is None:
            return OtpState(None, None)
        enabled = row["otp_enabled_at"]
        return OtpState(row["otp_secret"], None if enabled is None else int(enabled))

    async def begin(self, user_id: int, secret: str) -> None:
        """A new secret awaiting confirmation (refused once two-factor is on)."""
        await self._db.execute(
            "UPDATE users SET otp_secret = $1 WHERE id = $2 AND otp_enabled_at IS NULL",
            secret,
            user_id,
        )

    async def enable(self, user_id: int, secret: str, recovery_codes: list[str]) -> bool:
        """Turn two-factor on for the secret being set up, with fresh recovery codes."""
        now = now_ms()
        async with self._db.transaction() as tx:
            row = await tx.fetchrow(
                "UPDATE users SET otp_enabled_at = $1 WHERE id = $2 AND otp_secret = $3"
                " AND otp_enabled_at IS NULL RETURNING id",
                now,
                user_id,
                secret,
            )
            if row is None:
                return False
            await tx.execute("DELETE FROM otp_recovery_codes WHERE user_id = $1", user_id)
            for code in recovery_codes:
                await tx.execute(
                    "INSERT INTO otp_recovery_codes (id, user_id, code_hash, created_at)"
                    " VALUES ($1, $2, $3, $4)",
                    new_id(),
                    user_id,
                    token_digest(code),
                    now,
                )
        return True

    async def disable(self, user_id: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE users SET otp_secret = NULL, otp_enabled_at = NULL, otp_last_step = NULL"
                " WHERE id = $1",
                user_id,
            )
            await tx.execute("DELETE FROM otp_recovery_codes WHERE user_id = $1", user_id)

    async def take_step(self, user_id: int, step: int) -> bool:
        """Record that a code of ``step`` was used; False if this or a later one already was."""
        row = await self._db.fetchrow(
            "UPDATE users SET otp_last_step = $1 WHERE id = $2 AND otp_enabled_at IS NOT NULL"
            " AND (otp_last_step IS NULL OR otp_last_step < $1) RETURNING id",
            step,
            user_id,
        )
        return row is not None

    async def use_recovery_code(self, user_id: int, code: str) -> bool:
        row = await self._db.fetchrow(
            "UPDATE otp_recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3"
            " AND used_at IS NULL RETURNING id",
            now_ms(),
            user_id,
            token_digest(code),
        )
        return row is not None

    async def recovery_codes_left(self, user_id: int) -> int:
        value = await self._db.fetchval(
            "SELECT COUNT(*) FROM otp_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
            user_id,
        )
        return int(value or 0)
