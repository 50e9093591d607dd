"""Tombstones: URIs of remote statuses deleted by their authors, so that a Create or a
fetch arriving after the Delete does not bring the status back."""

from __future__ import annotations

from storage.db import Database
from storage.ids import now_ms


class TombstoneStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, uri: str, account_id: int | None = None) -> None:
        await self._db.execute(
            "INSERT INTO tombstones (uri, account_id, created_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (uri) DO NOTHING",
            uri,
            account_id,
            now_ms(),
        )

    async def exists(self, uri: str) -> bool:
        found = await self._db.fetchval("SELECT 1 FROM tombstones WHERE uri = $1", uri)
        return found is not None

    async def prune(self, older_than_ms: int) -> int:
        return await self._db.execute("DELETE FROM tombstones WHERE created_at < $1", older_than_ms)
