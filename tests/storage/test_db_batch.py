"""``Database.batch()``: one transaction for everything a task does, savepoints inside it,
notifications held back until the commit; other tasks untouched. Both backends."""

from __future__ import annotations

import asyncio

import pytest

from storage.db import NestedRollback, batch_memo, current_batch
from storage.store import Store


class Boom(Exception):
    pass


async def _make_table(store: Store) -> None:
    await store.db.execute("CREATE TABLE batch_probe (n INTEGER PRIMARY KEY, v TEXT NOT NULL)")


async def _values(store: Store) -> list[int]:
    rows = await store.db.fetch("SELECT n FROM batch_probe ORDER BY n")
    return [int(r["n"]) for r in rows]


async def test_a_batch_commits_its_writes_together_and_sees_them_inside(store: Store) -> None:
    await _make_table(store)
    async with store.db.batch():
        await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (1, 'a')")
        # A write made in the batch is seen by the batch's own reads.
        assert await store.db.fetchval("SELECT v FROM batch_probe WHERE n = 1") == "a"
        async with store.db.transaction() as tx:  # a savepoint: the same transaction
            await tx.execute("INSERT INTO batch_probe (n, v) VALUES (2, 'b')")
            assert await store.db.fetchval("SELECT COUNT(*) FROM batch_probe") == 2
    assert await _values(store) == [1, 2]
    assert current_batch(store.db) is None


async def test_a_failing_savepoint_undoes_only_its_own_writes(store: Store) -> None:
    await _make_table(store)
    async with store.db.batch():
        await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (1, 'kept')")
        with pytest.raises(Boom):
            async with store.db.transaction():
                await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (2, 'undone')")
                raise Boom
        # A failed statement (a duplicate key) in a savepoint leaves the batch usable.
        with pytest.raises(Exception):  # noqa: B017 (each driver raises its own)
            async with store.db.transaction():
                await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (1, 'dup')")
        await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (3, 'kept')")
    assert await _values(store) == [1, 3]


async def test_savepoints_in_a_row_each_keep_or_undo_only_their_own_writes(
    store: Store,
) -> None:
    """The inbox worker's pattern: one savepoint after another in a batch, some failing
    (by the caller's exception or by a statement's error), writes between them; each
    keeps or undoes its own writes, whatever came before it."""
    await _make_table(store)
    async with store.db.batch():
        async with store.db.transaction():
            await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (1, 'kept')")
        with pytest.raises(Boom):
            async with store.db.transaction():
                await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (2, 'undone')")
                raise Boom
        async with store.db.transaction():
            await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (3, 'kept')")
        async with store.db.transaction():
            await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (4, 'kept')")
        with pytest.raises(Exception):  # noqa: B017 (each driver raises its own)
            async with store.db.transaction():
                await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (5, 'undone')")
                await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (3, 'dup')")
        await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (6, 'kept')")
        async with store.db.transaction():
            await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (7, 'kept')")
        assert await _values(store) == [1, 3, 4, 6, 7]
    assert await _values(store) == [1, 3, 4, 6, 7]


async def test_a_transaction_inside_a_savepoint_fails_with_it_whole(store: Store) -> None:
    """A transaction nested in a batch's savepoint has no savepoint of its own: when it
    fails, even if its exception is caught, the enclosing savepoint rolls back whole."""
    await _make_table(store)
    async with store.db.batch():
        await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (1, 'kept')")
        with pytest.raises(NestedRollback):
            async with store.db.transaction():
                await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (2, 'undone')")
                try:
                    async with store.db.transaction():
                        await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (3, 'x')")
                        raise Boom
                except Boom:
                    pass  # caught: the savepoint around it still goes whole
                await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (4, 'undone')")
        # One that raises through the savepoint rolls it back as before.
        with pytest.raises(Boom):
            async with store.db.transaction():
                await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (5, 'undone')")
                async with store.db.transaction():
                    raise Boom
        # Nested ones that succeed are part of the savepoint, which commits.
        async with store.db.transaction():
            async with store.db.transaction() as tx:
                await tx.execute("INSERT INTO batch_probe (n, v) VALUES (6, 'kept')")
        await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (7, 'kept')")
    assert await _values(store) == [1, 6, 7]


async def test_what_a_batch_remembers_goes_when_a_savepoint_rolls_back(store: Store) -> None:
    """Rows remembered in a batch stay while its savepoints commit and are forgotten when
    one rolls back (it may have written them); there is nothing to remember outside a
    batch."""
    assert batch_memo(store.db) is None
    async with store.db.batch():
        memo = batch_memo(store.db)
        assert memo is not None
        async with store.db.transaction():
            memo["row"] = 1
        assert memo == {"row": 1}
        with pytest.raises(Boom):
            async with store.db.transaction():
                memo["other"] = 2
                raise Boom
        assert memo == {}
    assert batch_memo(store.db) is None


async def test_a_failing_batch_leaves_nothing(store: Store) -> None:
    await _make_table(store)
    with pytest.raises(Boom):
        async with store.db.batch():
            await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (1, 'a')")
            async with store.db.transaction():
                await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (2, 'b')")
            raise Boom
    assert await _values(store) == []
    # The database works on as before.
    await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (4, 'd')")
    assert await _values(store) == [4]


async def test_other_tasks_do_not_see_the_batch_until_it_commits(store: Store) -> None:
    await _make_table(store)
    inside = asyncio.Event()
    proceed = asyncio.Event()

    async def batch() -> None:
        async with store.db.batch():
            await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (1, 'a')")
            inside.set()
            await proceed.wait()

    task = asyncio.create_task(batch())
    await inside.wait()
    assert current_batch(store.db) is None  # this task has none open
    assert await _values(store) == []
    proceed.set()
    await task
    assert await _values(store) == [1]


async def test_notifications_wait_for_the_commit_and_go_with_a_rolled_back_savepoint(
    store: Store,
) -> None:
    heard: list[str] = []
    async with store.db.listen("batch_probe") as messages:

        async def listen() -> None:
            async for message in messages:
                heard.append(message)

        listener = asyncio.create_task(listen())
        try:
            async with store.db.batch():
                await store.db.notify("batch_probe", "kept")
                with pytest.raises(Boom):
                    async with store.db.transaction():
                        await store.db.notify("batch_probe", "dropped")
                        raise Boom
                async with store.db.transaction():
                    await store.db.notify("batch_probe", "kept too")
                await asyncio.sleep(0.3)
                assert heard == []  # nothing is heard before the commit
            with pytest.raises(Boom):
                async with store.db.batch():
                    await store.db.notify("batch_probe", "never")
                    raise Boom
            await store.db.notify("batch_probe", "after")
            for _ in range(100):
                if len(heard) >= 3:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
            # All a batch held back is heard once it commits, in the order it was said.
            assert heard == ["kept", "kept too", "after"]
        finally:
            listener.cancel()


async def test_a_task_started_in_a_batch_does_not_write_into_it_once_it_ended(
    store: Store,
) -> None:
    await _make_table(store)
    started = asyncio.Event()
    go = asyncio.Event()

    async def later() -> None:
        started.set()
        await go.wait()
        await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (2, 'later')")

    async with store.db.batch():
        await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (1, 'a')")
        task = asyncio.create_task(later())  # inherits the batch in its context
        await started.wait()
    go.set()
    await task
    assert await _values(store) == [1, 2]


async def test_a_generic_plan_read_sees_the_batch_and_leaves_its_settings(store: Store) -> None:
    await _make_table(store)
    await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (1, 'a')")
    read = "SELECT n FROM batch_probe WHERE n >= $1 ORDER BY n"
    assert [int(r[0]) for r in await store.db.fetch_generic(read, 0)] == [1]
    async with store.db.batch():
        await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (2, 'b')")
        # Inside a batch: the batch's own uncommitted write is seen ...
        assert [int(r[0]) for r in await store.db.fetch_generic(read, 2)] == [2]
        if store.dialect == "postgres":
            # ... and the plan setting it needs ends with the read.
            assert await store.db.fetchval("SELECT current_setting('plan_cache_mode')") == "auto"
        await store.db.execute("INSERT INTO batch_probe (n, v) VALUES (3, 'c')")
    assert await _values(store) == [1, 2, 3]
