"""Read positions in the home and notifications timelines, shared between an account's apps."""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import Database
from storage.ids import now_ms
from storage.models import Marker
from storage.rows import build, build_all


class MarkerStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, account_id: int, timelines: Sequence[str]) -> dict[str, Marker]:
        if not timelines:
            return {}
        marks = ", ".join(f"${i}" for i in range(2, len(timelines) + 2))
        rows = await self._db.fetch(
            f"SELECT * FROM markers WHERE account_id = $1 AND timeline IN ({marks})",
            account_id,
            *timelines,
        )
        return {m.timeline: m for m in build_all(Marker, rows)}

    async def set(self, account_id: int, timeline: str, last_read_id: str) -> Marker:
        """Save a position; the version goes up by one on every change, as apps expect."""
        row = await self._db.fetchrow(
            "INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at)"
            " VALUES ($1, $2, $3, 1, $4) ON CONFLICT (account_id, timeline) DO UPDATE SET"
            " last_read_id = excluded.last_read_id, version = markers.version + 1,"
            " updated_at = excluded.updated_at RETURNING *",
            account_id,
            timeline,
            last_read_id,
            now_ms(),
        )
        assert row is not None
        return build(Marker, row)

    async def last_read_id(self, account_id: int, timeline: str) -> int:
        value = await self._db.fetchval(
            "SELECT last_read_id FROM markers WHERE account_id = $1 AND timeline = $2",
            account_id,
            timeline,
        )
        return int(value) if isinstance(value, str) and value.isdigit() else 0
