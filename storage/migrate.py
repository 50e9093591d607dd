"""Numbered per-dialect SQL migrations with a schema version table."""

from __future__ import annotations

import re
import time
from importlib import resources

from storage.db import Connection, Database

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
    given: tests of a back-fill); return the names applied. Idempotent.

    When it applied any (migrations create indexes and back-fill tables), or when tables
    hold rows the planner has no statistics for (a restored dump), it refreshes the
    statistics (``analyze``): without them PostgreSQL plans the home timeline for empty
    tables and serves it several times slower until autovacuum comes round."""
    applied = await _apply(db, up_to)
    if applied or await never_analyzed(db):
        await analyze(db)
    return applied


# Processes on several machines start together and each migrates (``fedinode migrate`` before
# ``serve``, or ``serve`` itself): on PostgreSQL they take turns on a transaction-scoped
# advisory lock of the database and schema, and one that waited finds the work done.
_TAKE_TURNS = (
    "SELECT pg_advisory_xact_lock("
    "hashtext('fedinode.migrate:' || current_database() || ':' || current_schema()), 0)"
)


async def _take_turns(tx: Connection) -> None:
    if tx.dialect == "postgres":
        await tx.fetchval(_TAKE_TURNS)


async def _apply(db: Database, up_to: int | None) -> list[str]:
    async with db.transaction() as tx:
        await _take_turns(tx)
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
        )
    done = {int(r["version"]) for r in await db.fetch("SELECT version FROM schema_version")}
    applied: list[str] = []
    for version, name, sql in available(db.dialect):
        if version in done or (up_to is not None and version > up_to):
            continue
        async with db.transaction() as tx:
            await _take_turns(tx)
            if await tx.fetchval("SELECT 1 FROM schema_version WHERE version = $1", version):
                continue  # another process applied it while this one waited
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


async def pending(db: Database) -> list[str]:
    """Names of the bundled migrations this database has not applied (readiness)."""
    rows = await db.fetch("SELECT version FROM schema_version")
    done = {int(r["version"]) for r in rows}
    return [name for version, name, _sql in available(db.dialect) if version not in done]


async def _tables(db: Database) -> list[str]:
    if db.dialect == "postgres":
        rows = await db.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
    else:
        rows = await db.fetch(
            "SELECT name AS tablename FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' ORDER BY 1"
        )
    return [str(r["tablename"]) for r in rows]


async def never_analyzed(db: Database) -> bool:
    """Whether some table of ours holds rows but has never had its statistics gathered."""
    if db.dialect == "postgres":
        found = await db.fetchval(
            "SELECT 1 FROM pg_stat_user_tables WHERE schemaname = current_schema()"
            " AND n_live_tup > 0 AND last_analyze IS NULL AND last_autoanalyze IS NULL LIMIT 1"
        )
        return found is not None
    # SQLite keeps statistics in sqlite_stat1, made by the first ANALYZE.
    found = await db.fetchval(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
    )
    return found is None


async def autovacuum_off(db: Database) -> bool:
    """Whether PostgreSQL's autovacuum is off (never on SQLite, which has none): tables are
    then neither analyzed nor vacuumed as they grow, and the visibility map a timeline's
    index-only reads rely on is never set (the home timeline at 1M statuses: 25% more
    database CPU a page)."""
    if db.dialect != "postgres":
        return False
    return str(await db.fetchval("SELECT current_setting('autovacuum')")) == "off"


async def analyze(db: Database) -> None:
    """Gather planner statistics for this schema's tables (only ours: a PostgreSQL database
    may hold other schemas); on SQLite, ``ANALYZE`` then ``PRAGMA optimize``."""
    tables = await _tables(db)
    if not tables:
        return
    if db.dialect == "postgres":
        names = ", ".join(f'"{t}"' for t in tables)
        await db.execute(f"ANALYZE {names}")
    else:
        await db.execute("ANALYZE")
        await db.execute("PRAGMA optimize")
