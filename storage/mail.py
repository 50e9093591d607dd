"""The outgoing mail queue: each mail a row until sent, retried with backoff meanwhile."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import Database
from storage.ids import new_id, now_ms
from storage.rows import build_all

QUEUED = "queued"
DEAD = "dead"


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    id: int
    recipient: str
    subject: str
    body: str
    state: str
    attempts: int
    next_attempt_at: int
    last_error: str | None
    created_at: int
    language: str  # "" for mails queued before it was kept


class MailOutboxStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(
        self, recipient: str, subject: str, body: str, *, language: str = ""
    ) -> int:
        now = now_ms()
        mail_id = new_id()
        await self._db.execute(
            "INSERT INTO mail_outbox (id, recipient, subject, body, state, next_attempt_at,"
            " created_at, language) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            mail_id,
            recipient,
            subject,
            body,
            QUEUED,
            now,
            now,
            language,
        )
        return mail_id

    async def due(self, limit: int, *, lease_ms: int = 120_000) -> list[OutgoingMail]:
        """Mails due now, each pushed ``lease_ms`` ahead so no other sender takes it while
        this one sends it (a mail another sender claimed first is left out)."""
        now = now_ms()
        rows = await self._db.fetch(
            "SELECT * FROM mail_outbox WHERE state = $1 AND next_attempt_at <= $2"
            " ORDER BY next_attempt_at, id LIMIT $3",
            QUEUED,
            now,
            limit,
        )
        claimed = []
        for mail in build_all(OutgoingMail, rows):
            # Claimed only if nobody moved it since it was read.
            taken = await self._db.execute(
                "UPDATE mail_outbox SET next_attempt_at = $1, attempts = attempts + 1"
                " WHERE id = $2 AND state = $3 AND next_attempt_at = $4",
                now + lease_ms,
                mail.id,
                QUEUED,
                mail.next_attempt_at,
            )
            if taken:
                claimed.append(mail)
        return claimed

    async def sent(self, mail_id: int) -> None:
        # A sent mail is not kept: its body may carry a one-time link.
        await self._db.execute("DELETE FROM mail_outbox WHERE id = $1", mail_id)

    async def failed(self, mail_id: int, error: str, *, retry_at: int | None) -> None:
        """Try again at ``retry_at``; None: give up (the body is dropped, the error kept)."""
        if retry_at is None:
            await self._db.execute(
                "UPDATE mail_outbox SET state = $1, body = '', last_error = $2 WHERE id = $3",
                DEAD,
                error[:1000],
                mail_id,
            )
        else:
            await self._db.execute(
                "UPDATE mail_outbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3",
                retry_at,
                error[:1000],
                mail_id,
            )

    async def by_state(self) -> dict[str, int]:
        rows = await self._db.fetch("SELECT state, COUNT(*) AS n FROM mail_outbox GROUP BY state")
        return {str(r["state"]): int(r["n"]) for r in rows}
