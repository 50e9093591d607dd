"""Numbered per-dialect SQL migrations with a schema version table."""

from __future__ import annotations

import re
import time
from importlib import resources

from storage.db import Database

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def available(dialect: str) -> list[tuple[int, str, str]]:
    """(version, name, sql) for every bundled migration of the dialect, in order."""
    folder = resources.files("storage.migrations").joinpath(dialect)
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _statements(sql: str) -> list[str]:
    # Our migrations never put ';' inside literals, so a split on ';' at line ends is exact.
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


async def migrate(db: Database, *, up_to: int | None = None) -> list[str]:
    """Apply every migration not yet applied (those numbered ``up_to`` at most, when
    given: tests of a back-fill); return the names applied. Idempotent."""
    await db.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
    )
    done = {int(r["version"]) for r in await db.fetch("SELECT version FROM schema_version")}
    applied: list[str] = []
    for version, name, sql in available(db.dialect):
        if version in done or (up_to is not None and version > up_to):
            continue
        async with db.transaction() as tx:
            for statement in _statements(sql):
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
                version,
                name,
                int(time.time() * 1000),
            )
        applied.append(name)
    return applied
