"""Migrations leave the planner statistics behind them; the operational gauges read the
queues and peers as they are; readiness names what is missing. On each backend."""

from __future__ import annotations

from factories import local_account

from storage.accounts import NewAccount
from storage.gauges import queue_gauges, readiness
from storage.migrate import available, migrate, never_analyzed
from storage.queues import NewDelivery, NewInboxItem
from storage.store import Store


async def _never_analyzed_tables(store: Store) -> list[str]:
    """Tables of ours without statistics (PostgreSQL: reltuples is -1 until the first
    ANALYZE or VACUUM, and pg_class shows it at once, unlike the cumulative statistics)."""
    rows = await store.db.fetch(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.reltuples < 0"
    )
    return [str(r["relname"]) for r in rows]


async def _sqlite_stats(store: Store) -> dict[str, str]:
    rows = await store.db.fetch("SELECT tbl, stat FROM sqlite_stat1 WHERE idx IS NULL OR idx <> ''")
    return {str(r["tbl"]): str(r["stat"]) for r in rows}


async def test_a_fresh_database_is_analyzed_after_its_migrations(store: Store) -> None:
    if store.dialect == "postgres":
        assert await _never_analyzed_tables(store) == []
    else:
        # The first ANALYZE makes sqlite_stat1 (empty tables get no rows in it).
        assert (
            await store.db.fetchval(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
            )
            == 1
        )
    assert not await never_analyzed(store.db)


async def test_a_migration_over_data_refreshes_the_statistics(database_url: str) -> None:
    """A later migration (they back-fill) runs ANALYZE: the planner then knows the rows."""
    store = await Store.open(database_url, run_migrations=False)
    try:
        last = available(store.dialect)[-1][0]
        await migrate(store.db, up_to=last - 1)
        for i in range(30):  # accounts alone: an older users table lacks newer columns
            uri = f"http://local.test/users/user{i}"
            await store.accounts.create(
                NewAccount(username=f"user{i}", domain="", uri=uri, inbox_url=f"{uri}/inbox")
            )
        if store.dialect == "postgres":
            before = await store.db.fetchval(
                "SELECT reltuples FROM pg_class WHERE oid = 'accounts'::regclass"
            )
            assert before <= 0  # analyzed while empty
        assert len(await migrate(store.db)) == 1
        if store.dialect == "postgres":
            after = await store.db.fetchval(
                "SELECT reltuples FROM pg_class WHERE oid = 'accounts'::regclass"
            )
            assert after == 30
        else:
            assert (await _sqlite_stats(store))["accounts"].startswith("30 ")
        assert await migrate(store.db) == []  # nothing applied: nothing to do
    finally:
        await store.close()


async def test_queue_gauges_count_waiting_rows_by_state(store: Store) -> None:
    empty = await queue_gauges(store.db)
    assert empty.inbox == {"queued": 0, "processing": 0, "failed": 0}
    assert empty.deliveries == {"queued": 0, "retry": 0, "sending": 0, "dead": 0}
    assert empty.inbox_oldest_age_s == 0 and empty.unreachable_peers == 0

    alice = await local_account(store, "alice")
    await store.queues.enqueue_inbox(
        [
            NewInboxItem(
                activity_id=f"https://r.test/a/{i}",
                payload="{}",
                peer="r.test",
                actor="https://r.test/u",
            )
            for i in range(3)
        ]
    )
    await store.queues.enqueue_deliveries(
        [NewDelivery(activity_id=f"act{i}", inbox_url="https://r.test/inbox", peer="r.test",
                     sender_account_id=alice.id, payload="{}") for i in range(4)],
        ttl_ms=60_000,
    )  # fmt: skip
    claimed = await store.queues.claim_deliveries(2)
    await store.queues.retry_delivery(claimed[0].id, "HTTP 500", retry_at=0, dead=True)
    await store.queues.finish_deliveries([claimed[1].id])
    await store.queues.peer_result("r.test", False)
    await store.queues.peer_result("ok.test", True)

    g = await queue_gauges(store.db)
    assert g.inbox == {"queued": 3, "processing": 0, "failed": 0}
    assert g.deliveries == {"queued": 2, "retry": 0, "sending": 0, "dead": 1}
    assert g.inbox_oldest_age_s >= 0 and g.delivery_oldest_age_s >= 0
    assert g.unreachable_peers == 1


async def test_readiness_names_pending_migrations(store: Store) -> None:
    assert await readiness(store.db) is None
    await store.db.execute(
        "DELETE FROM schema_version WHERE name = $1", available(store.dialect)[-1][1]
    )
    reason = await readiness(store.db)
    assert reason == f"migrations pending: {available(store.dialect)[-1][1]}"


async def test_autovacuum_off_is_told(store: Store) -> None:
    """What the server would warn about at start: PostgreSQL's own setting (this test's
    cluster may run either way); SQLite has no autovacuum to be off."""
    from storage.migrate import autovacuum_off

    if store.dialect == "postgres":
        setting = await store.db.fetchval("SHOW autovacuum")
        assert await autovacuum_off(store.db) is (setting == "off")
    else:
        assert await autovacuum_off(store.db) is False
