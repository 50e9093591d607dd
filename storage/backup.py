"""The database half of backups: SQLite's online backup API, PostgreSQL's pg_dump and
pg_restore, and the counts a backup's manifest records.

The copy functions block (a file copy, a subprocess): run them in a thread.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from storage.db import Database, sqlite_path

SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.pgdump"
# What the manifest counts (and a restore checks against).
COUNTED = ("accounts", "users", "statuses", "follows", "media_attachments")
# Pages copied per step of SQLite's backup: small steps let writers in between.
_PAGES_PER_STEP = 1024

Progress = Callable[[int, int], None]


class BackupError(Exception):
    """A backup or restore step failed (the message says which and why)."""


def dialect_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite:") else "postgres"


# -- SQLite ------------------------------------------------------------------------------


def sqlite_backup(url: str, target: Path, progress: Progress | None = None) -> None:
    """Copy a live SQLite database page by page (consistent even while it is written)."""
    source = sqlite_path(url)
    if not Path(source).is_file():
        raise BackupError(f"no database file at {source}")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:

        def step(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        src.backup(dst, pages=_PAGES_PER_STEP, progress=step)
    finally:
        dst.close()
        src.close()


def sqlite_restore(backup_file: Path, url: str) -> None:
    """Put a backed-up SQLite file in place of an empty (or missing) database file."""
    target = Path(sqlite_path(url))
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    tmp = target.with_name(target.name + ".restoring")
    src = sqlite3.connect(backup_file)
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    os.replace(tmp, target)


# -- PostgreSQL ----------------------------------------------------------------------------


def find_pg_tool(name: str) -> str:
    """pg_dump or pg_restore: on PATH, else the newest under /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: str) -> int:
        match = re.search(r"/postgresql/(\d+)/", path)
        return int(match.group(1)) if match else 0

    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version)
    if not candidates:
        raise BackupError(
            f"{name} not found on PATH or under /usr/lib/postgresql/*/bin "
            "(install the PostgreSQL client package)"
        )
    return candidates[-1]


def libpq_url(url: str) -> tuple[str, str | None]:
    """A database URL as libpq takes it, and the schema named by its ``search_path``
    (asyncpg reads that parameter, libpq refuses it)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "search_path"), None)
    kept = [(k, v) for k, v in query if k != "search_path"]
    return urlunsplit(parts._replace(query=urlencode(kept))), schema or None


def _run(command: list[str], what: str) -> None:
    env = {**os.environ, "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT", "30")}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise BackupError(f"{what} failed: {lines[-1] if lines else result.returncode}")


def pg_dump(url: str, target: Path) -> None:
    """A custom-format dump of our schema (the whole database when the URL names none)."""
    dsn, schema = libpq_url(url)
    command = [find_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
    if schema:
        command.append(f"--schema={schema}")
    _run([*command, f"--file={target}", f"--dbname={dsn}"], "pg_dump")


def pg_restore(backup_file: Path, url: str, *, clean: bool) -> None:
    """Load a dump into an empty database; ``clean`` drops the dump's objects first (the
    tables an empty instance created at its first start)."""
    dsn, _schema = libpq_url(url)
    command = [find_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    if clean:
        command += ["--clean", "--if-exists"]
    _run([*command, f"--dbname={dsn}", str(backup_file)], "pg_restore")


# -- what a database holds -----------------------------------------------------------------


async def has_tables(db: Database) -> bool:
    if db.dialect == "postgres":
        found = await db.fetchval(
            "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'accounts'"
        )
    else:
        found = await db.fetchval(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'accounts'"
        )
    return found is not None


async def counts(db: Database) -> dict[str, int]:
    """Rows in the tables a manifest records (an empty dict when there are none yet)."""
    if not await has_tables(db):
        return {}
    out = {}
    for table in COUNTED:
        out[table] = int(await db.fetchval(f"SELECT count(*) FROM {table}"))
    return out


async def migration_level(db: Database) -> int:
    if not await has_tables(db):
        return 0
    return int(await db.fetchval("SELECT coalesce(max(version), 0) FROM schema_version"))


async def holds_data(db: Database) -> str | None:
    """What makes a database not empty (users, statuses, follows), or None. The rows a
    first start makes (the instance actor) do not count."""
    found = await counts(db)
    held = [f"{found[t]} {t}" for t in ("users", "statuses", "follows") if found.get(t)]
    return ", ".join(held) or None
