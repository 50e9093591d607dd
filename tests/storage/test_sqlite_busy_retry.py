"""The SQLite writer's statements: a statement refused as busy is retried until the other
connection lets go (or the timeout passes); other errors are raised at once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

import storage.sqlite.db as sqlite_db
from storage.sqlite.db import _SqliteConnection


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=0")
    return conn


@pytest.fixture
def two(tmp_path: Path) -> tuple[_SqliteConnection, sqlite3.Connection]:
    path = tmp_path / "busy.sqlite3"
    other = _connect(path)
    other.execute("CREATE TABLE t (n INTEGER)")
    other.execute("INSERT INTO t VALUES (1)")
    return _SqliteConnection(_connect(path)), other


@pytest.mark.parametrize("method", ["execute", "fetch", "fetchrow"])
async def test_a_busy_statement_runs_once_the_lock_is_free(
    two: tuple[_SqliteConnection, sqlite3.Connection], method: str
) -> None:
    writer, other = two
    other.execute("BEGIN EXCLUSIVE")
    before = writer.writes
    call = asyncio.ensure_future(
        getattr(writer, method)("UPDATE t SET n = n + $1 RETURNING n", 1)
        if method != "execute"
        else writer.execute("UPDATE t SET n = n + $1", 1)
    )
    await asyncio.sleep(0.05)
    assert not call.done()  # retrying while the other holds the lock
    other.execute("COMMIT")
    result = await asyncio.wait_for(call, 5)
    expected = {"execute": 1, "fetch": [{"n": 2}], "fetchrow": {"n": 2}}[method]
    assert result == expected
    assert writer.writes == before + 1
    assert other.execute("SELECT n FROM t").fetchone() == (2,)


async def test_a_busy_statement_gives_up_after_the_timeout(
    two: tuple[_SqliteConnection, sqlite3.Connection], monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, other = two
    monkeypatch.setattr(sqlite_db, "_BUSY_TIMEOUT", 0.05)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(sqlite3.OperationalError):
            await asyncio.wait_for(writer.execute("UPDATE t SET n = 5"), 5)
    finally:
        other.execute("ROLLBACK")


async def test_other_errors_are_raised_at_once(
    two: tuple[_SqliteConnection, sqlite3.Connection],
) -> None:
    writer, _ = two
    for method in ("execute", "fetch", "fetchrow"):
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await getattr(writer, method)("SELECT * FROM missing")
    assert writer.writes == 0
