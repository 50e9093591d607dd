"""Mastodon-style id paging: max_id / since_id / min_id / limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Page:
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20

    def clauses(self, column: str, args: list[Any]) -> tuple[str, str, bool]:
        """SQL conditions, ORDER BY and whether rows come oldest-first (min_id paging)."""
        where = []
        if self.max_id is not None:
            args.append(self.max_id)
            where.append(f"{column} < ${len(args)}")
        if self.since_id is not None:
            args.append(self.since_id)
            where.append(f"{column} > ${len(args)}")
        ascending = self.min_id is not None
        if ascending:
            args.append(self.min_id)
            where.append(f"{column} > ${len(args)}")
        order = f"{column} ASC" if ascending else f"{column} DESC"
        return (" AND ".join(where) or "1=1"), order, ascending
