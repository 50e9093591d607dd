"""Direct-message conversations as each participant sees them: last status, read, removed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.ids import new_id, now_ms
from storage.paging import Page

# Direct statuses the viewer ($1) takes part in: wrote, or is mentioned in.
_MINE = (
    "s.visibility = 'direct' AND (s.account_id = $1 OR EXISTS (SELECT 1 FROM mentions m"
    " WHERE m.status_id = s.id AND m.account_id = $1))"
)


@dataclass(frozen=True, slots=True)
class ConversationRow:
    id: int
    conversation: str
    last_status_id: int
    unread: bool


class ConversationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _ensure(self, account_id: int, conversation: str) -> tuple[int, int, int]:
        """(state id, last read id, removed before id), creating the state row on first sight."""
        row = await self._db.fetchrow(
            "SELECT id, last_read_id, removed_before_id FROM conversation_states"
            " WHERE account_id = $1 AND conversation = $2",
            account_id,
            conversation,
        )
        if row is None:
            await self._db.execute(
                "INSERT INTO conversation_states (id, account_id, conversation, created_at)"
                " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                new_id(),
                account_id,
                conversation,
                now_ms(),
            )
            row = await self._db.fetchrow(
                "SELECT id, last_read_id, removed_before_id FROM conversation_states"
                " WHERE account_id = $1 AND conversation = $2",
                account_id,
                conversation,
            )
        assert row is not None
        return int(row["id"]), int(row["last_read_id"]), int(row["removed_before_id"])

    async def page(self, account_id: int, page: Page) -> list[ConversationRow]:
        """Conversations newest activity first, paged by their last status id."""
        args: list[Any] = [account_id]
        having: list[str] = [
            "MAX(s.id) > COALESCE((SELECT cs.removed_before_id FROM conversation_states cs"
            " WHERE cs.account_id = $1 AND cs.conversation = s.conversation), 0)"
        ]
        if page.max_id is not None:
            args.append(page.max_id)
            having.append(f"MAX(s.id) < ${len(args)}")
        lower = page.min_id if page.min_id is not None else page.since_id
        if lower is not None:
            args.append(lower)
            having.append(f"MAX(s.id) > ${len(args)}")
        ascending = page.min_id is not None
        args.append(page.limit)
        rows = await self._db.fetch(
            "SELECT s.conversation AS conversation, MAX(s.id) AS last_id,"
            " MAX(CASE WHEN s.account_id <> $1 THEN s.id ELSE 0 END) AS last_other_id"
            f" FROM statuses s WHERE {_MINE} AND s.conversation IS NOT NULL"
            f" GROUP BY s.conversation HAVING {' AND '.join(having)}"
            f" ORDER BY last_id {'ASC' if ascending else 'DESC'} LIMIT ${len(args)}",
            *args,
        )
        out: list[ConversationRow] = []
        for r in rows:
            state_id, last_read, _ = await self._ensure(account_id, str(r["conversation"]))
            out.append(
                ConversationRow(
                    id=state_id,
                    conversation=str(r["conversation"]),
                    last_status_id=int(r["last_id"]),
                    unread=int(r["last_other_id"]) > last_read,
                )
            )
        if ascending:
            out.reverse()
        return out

    async def for_status(self, account_id: int, conversation: str) -> ConversationRow | None:
        """The viewer's conversation a new direct status belongs to (for streaming)."""
        row = await self._db.fetchrow(
            "SELECT MAX(s.id) AS last_id, MAX(CASE WHEN s.account_id <> $1 THEN s.id ELSE 0 END) AS last_other_id"
            f" FROM statuses s WHERE {_MINE} AND s.conversation = $2",
            account_id,
            conversation,
        )
        if row is None or row["last_id"] is None:
            return None
        state_id, last_read, removed = await self._ensure(account_id, conversation)
        if int(row["last_id"]) <= removed:
            return None
        return ConversationRow(
            state_id, conversation, int(row["last_id"]), int(row["last_other_id"]) > last_read
        )

    async def get(self, account_id: int, state_id: int) -> ConversationRow | None:
        row = await self._db.fetchrow(
            "SELECT conversation FROM conversation_states WHERE id = $1 AND account_id = $2",
            state_id,
            account_id,
        )
        if row is None:
            return None
        return await self.for_status(account_id, str(row["conversation"]))

    async def mark_read(self, account_id: int, state_id: int, up_to: int) -> None:
        await self._db.execute(
            "UPDATE conversation_states SET last_read_id = $1 WHERE id = $2 AND account_id = $3",
            up_to,
            state_id,
            account_id,
        )

    async def remove(self, account_id: int, state_id: int, up_to: int) -> None:
        """Hide the conversation until a newer status arrives in it."""
        await self._db.execute(
            "UPDATE conversation_states SET removed_before_id = $1, last_read_id = $1"
            " WHERE id = $2 AND account_id = $3",
            up_to,
            state_id,
            account_id,
        )

    async def participants(self, conversation: str, *, limit: int = 40) -> list[int]:
        """Authors and mentioned accounts of the conversation's direct statuses."""
        rows = await self._db.fetch(
            "SELECT DISTINCT x.account_id FROM ("
            " SELECT s.account_id FROM statuses s WHERE s.conversation = $1 AND s.visibility = 'direct'"
            " UNION SELECT m.account_id FROM mentions m JOIN statuses s ON s.id = m.status_id"
            " WHERE s.conversation = $1 AND s.visibility = 'direct') x LIMIT $2",
            conversation,
            limit,
        )
        return [int(r["account_id"]) for r in rows]
