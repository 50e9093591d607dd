"""Instance-wide activity figures for the admin and instance endpoints."""

from __future__ import annotations

from typing import Any

from storage.db import Database
from storage.ids import now_ms


class StatsStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def weekly_activity(self, weeks: int = 12) -> list[dict[str, Any]]:
        """Local statuses, logins (token use) and registrations per week, newest first."""
        week = 7 * 86_400_000
        now = now_ms()
        start = now - now % week
        out = []
        for i in range(weeks):
            lo, hi = start - i * week, start - i * week + week
            statuses = await self._db.fetchval(
                "SELECT COUNT(*) FROM statuses WHERE local AND id >= $1 AND id < $2",
                lo << 16,
                hi << 16,
            )
            logins = await self._db.fetchval(
                "SELECT COUNT(DISTINCT user_id) FROM oauth_tokens WHERE last_used_at >= $1 AND last_used_at < $2",
                lo,
                hi,
            )
            registrations = await self._db.fetchval(
                "SELECT COUNT(*) FROM users WHERE created_at >= $1 AND created_at < $2", lo, hi
            )
            out.append(
                {
                    "week": lo // 1000,
                    "statuses": int(statuses or 0),
                    "logins": int(logins or 0),
                    "registrations": int(registrations or 0),
                }
            )
        return out
