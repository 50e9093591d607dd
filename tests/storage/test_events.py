"""Change events reach the listeners of their own database (schema), in order, and no other."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from storage import events
from storage.store import Store


async def test_events_reach_listeners_of_the_same_database_only(
    backend: str, database_url_factory: Any
) -> None:
    # Two instances on one server: on PostgreSQL two schemas of one database, whose NOTIFY
    # channel space is shared.
    mine = await Store.open(await database_url_factory(backend))
    other = await Store.open(await database_url_factory(backend))
    try:
        async with events.subscribe(mine.db) as messages:
            received = aiter(messages)
            await events.publish(other.db, "status.deleted", status_id=1)
            await events.publish(mine.db, "status.created", status_id=2)
            await events.publish(mine.db, "status.deleted", status_id=3)
            got = [orjson.loads(await asyncio.wait_for(anext(received), 3.0)) for _ in range(2)]
            assert got == [
                {"event": "status.created", "status_id": 2},
                {"event": "status.deleted", "status_id": 3},
            ]
            await events.publish(other.db, "status.created", status_id=4)
            try:
                stray = await asyncio.wait_for(anext(received), 0.3)
            except TimeoutError:
                stray = None
            assert stray is None
    finally:
        await other.close()
        await mine.close()


async def test_events_reach_listeners_in_another_process_on_the_same_database(
    backend: str, database_url: str
) -> None:
    # ``serve --workers N``: each process opens the database itself; on SQLite the
    # notifications go between the processes sharing the file, as NOTIFY does on PostgreSQL.
    import subprocess
    import sys

    publisher = (
        "import asyncio, sys\n"
        "from storage import events\n"
        "from storage.store import Store\n"
        "async def main():\n"
        "    store = await Store.open(sys.argv[1])\n"
        "    await events.publish(store.db, 'status.created', status_id=7)\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )
    mine = await Store.open(database_url)
    try:
        async with events.subscribe(mine.db) as messages:
            received = aiter(messages)
            done = await asyncio.to_thread(
                subprocess.run, [sys.executable, "-c", publisher, database_url],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            got = orjson.loads(await asyncio.wait_for(anext(received), 3.0))
            assert got == {"event": "status.created", "status_id": 7}
    finally:
        await mine.close()


async def test_a_socket_left_by_a_killed_process_is_dropped(tmp_path: Any) -> None:
    import os
    import socket

    from storage.sqlite.notify import Notifier

    path = str(tmp_path / "db.sqlite3")
    receiver, sender = Notifier(path), Notifier(path)
    got: list[tuple[str, str]] = []
    receiver.start(lambda channel, payload: got.append((channel, payload)))
    # What a SIGKILLed process leaves: a socket file that nobody reads.
    stale = os.path.join(sender.directory, "1-dead")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as dead:
        dead.bind(stale)
    try:
        sender.send("fedinode_events", '{"event": "x"}')
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.01)
        assert got == [("fedinode_events", '{"event": "x"}')]
        assert not _exists(stale)
    finally:
        receiver.close()
        sender.close()
    assert not _exists(receiver.directory)  # the last one out removes the directory


def _exists(path: str) -> bool:
    import os

    return os.path.exists(path)


async def test_a_commits_notifications_reach_another_process_whole_and_in_order(
    tmp_path: Any,
) -> None:
    """Sent together (an inbox batch's events), more than one datagram holds: each arrives
    once, in order, payloads intact (NUL and non-ASCII included)."""
    from storage.sqlite.notify import Notifier

    path = str(tmp_path / "db.sqlite3")
    receiver, sender = Notifier(path), Notifier(path)
    got: list[tuple[str, str]] = []
    receiver.start(lambda channel, payload: got.append((channel, payload)))
    notes = [("fedinode_events", f'{{"event": "status.created", "status_id": {i}}}')
             for i in range(2000)]  # fmt: skip
    notes += [("fedinode_inbox", ""), ("fedinode_events", "a\0b é ✓"), ("c", "x" * 70_000)]
    try:
        sender.send_many(notes)
        for _ in range(200):
            if len(got) >= len(notes):
                break
            await asyncio.sleep(0.01)
        assert got[:-1] == notes[:-1]
        assert got[-1] == ("c", "x" * (65536 - 4 - 2))  # a record longer than a datagram: cut
    finally:
        receiver.close()
        sender.close()
