"""The PostgreSQL driver's connection pool: statements beyond its size wait their turn, and
neither a failed statement nor a cancelled one (a client gone mid-request) leaves a
connection the next statement cannot use. PostgreSQL only (SQLite has no pool)."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

import storage.postgres.db
from storage.postgres.db import PostgresDatabase
from tests.conftest import DatabaseUrlFactory


@pytest.fixture
async def small_db(database_url_factory: DatabaseUrlFactory) -> PostgresDatabase:
    url = await database_url_factory("postgres")
    return await PostgresDatabase.open(url, min_size=1, max_size=2)


async def test_statements_beyond_the_pool_wait_and_all_run(small_db: PostgresDatabase) -> None:
    db = small_db
    try:
        pids = await asyncio.gather(
            *(db.fetchval("SELECT pg_backend_pid() FROM pg_sleep(0.05)") for _ in range(8))
        )
        assert len(pids) == 8
        assert len(set(pids)) <= 2
        opened, idle, most = db.pool_usage()
        assert opened <= most and idle == opened  # all given back
    finally:
        await db.close()


async def test_a_failed_statement_or_transaction_leaves_the_connection_usable(
    small_db: PostgresDatabase,
) -> None:
    db = small_db
    try:
        await db.execute("CREATE TABLE pool_probe (n INTEGER PRIMARY KEY)")
        with pytest.raises(asyncpg.PostgresError):
            await db.execute("INSERT INTO pool_probe (n) VALUES (1), (1)")
        with pytest.raises(ZeroDivisionError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO pool_probe (n) VALUES (2)")
                _ = 1 / 0
        assert await db.fetchval("SELECT COUNT(*) FROM pool_probe") == 0
        assert await db.fetchval("SELECT pg_current_xact_id_if_assigned()") is None
    finally:
        await db.close()


async def test_a_cancelled_statement_frees_its_place(small_db: PostgresDatabase) -> None:
    db = small_db
    try:
        slow = [asyncio.create_task(db.fetchval("SELECT pg_sleep(5)")) for _ in range(2)]
        waiting = asyncio.create_task(db.fetchval("SELECT 1"))  # no place left: waits
        await asyncio.sleep(0.2)
        assert not waiting.done()
        waiting.cancel()
        for task in slow:
            task.cancel()
        await asyncio.gather(*slow, waiting, return_exceptions=True)
        # The places of the cancelled statements are free again, promptly.
        answers = await asyncio.wait_for(
            asyncio.gather(*(db.fetchval("SELECT 7") for _ in range(3))), timeout=3
        )
        assert answers == [7, 7, 7]
        opened, _, most = db.pool_usage()
        assert opened <= most
    finally:
        await db.close()


async def test_a_closed_pool_refuses_statements(small_db: PostgresDatabase) -> None:
    await small_db.close()
    with pytest.raises(asyncpg.InterfaceError):
        await small_db.fetchval("SELECT 1")


async def test_timeline_reads_work_when_the_generic_plan_setting_is_refused(
    database_url_factory: DatabaseUrlFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As a pooler in front of the server (PgBouncer) refuses a startup parameter it does not
    # know: here the server itself refuses a value it does not know.
    monkeypatch.setattr(storage.postgres.db, "GENERIC_SETTINGS", {"plan_cache_mode": "bogus"})
    db = await PostgresDatabase.open(await database_url_factory("postgres"), max_size=2)
    try:
        for _ in range(2):  # refused once, then set per statement without asking again
            rows = await db.fetch_generic("SELECT n FROM generate_series(1, $1) n", 3)
            assert [r[0] for r in rows] == [1, 2, 3]
        assert await db.fetchval("SELECT current_setting('plan_cache_mode')") == "auto"
    finally:
        await db.close()


async def test_a_connection_idle_too_long_is_closed_not_reused(
    small_db: PostgresDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = small_db
    monkeypatch.setattr(storage.postgres.db, "IDLE_LIFETIME_S", 0.2)
    try:
        first = await db.fetchval("SELECT pg_backend_pid()")
        assert await db.fetchval("SELECT pg_backend_pid()") == first  # reused while fresh
        await asyncio.sleep(0.3)
        later = await db.fetchval("SELECT pg_backend_pid()")
        assert later != first
        opened, idle, _ = db.pool_usage()
        assert (opened, idle) == (1, 1)  # the stale ones are gone, not merely set aside
    finally:
        await db.close()


async def test_the_store_keeps_to_the_configured_pool_size(
    database_url_factory: DatabaseUrlFactory,
) -> None:
    from storage.store import Store

    store = await Store.open(await database_url_factory("postgres"), pool_size=3)
    try:
        pids = await asyncio.gather(
            *(store.db.fetchval("SELECT pg_backend_pid() FROM pg_sleep(0.05)") for _ in range(9))
        )
        assert 1 < len(set(pids)) <= 3
    finally:
        await store.close()
