"""kill -9 in the middle of an inbox burst loses nothing and doubles nothing.

A real ``fedinode serve`` in a subprocess (SQLite, then PostgreSQL in a fresh schema)
takes signed Create{Note} activities, each mentioning the local user alice, from a fake
remote peer on loopback. The server is killed with SIGKILL five times while activities
pour in and its inbox worker is busy, and restarted on the same database each time; the
peer then sends again what was never answered (as a peer retries). Once the inbox queue
is drained: every accepted activity is exactly one status with exactly one mention
notification for alice.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from inbox_crash_harness import (
    Burst,
    FakePeer,
    Server,
    free_port,
    make_local_user,
    mention_note,
    outcome,
    start_peer,
    take_back_leases,
    wait_drained,
)

ACTORS = {f"peer{i}": i for i in range(4)}
PER_ROUND = 60
ROUNDS = 5
KILL_AFTER = 45  # accepted activities of a round before the kill


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    p = await start_peer(ACTORS)
    yield p
    await p.server.close()


async def test_sigkill_mid_burst_loses_and_doubles_no_mention(
    database_url: str, tmp_path: Path, peer: FakePeer
) -> None:
    started = time.monotonic()
    server = Server(free_port(), database_url, tmp_path / "server")
    alice = await make_local_user(database_url, server.base_url, "alice")
    names = list(ACTORS)
    activities = [
        mention_note(peer, names[n % len(names)], n, alice) for n in range(PER_ROUND * ROUNDS)
    ]
    burst = Burst(f"{server.base_url}/inbox", peer)
    try:
        for round_ in range(ROUNDS):
            await server.start()
            chunk = activities[round_ * PER_ROUND : (round_ + 1) * PER_ROUND]
            await burst.send(chunk, kill_after=KILL_AFTER, server=server)
            assert server.process is None, (
                f"the server was not killed mid-burst (round {round_}; refused: "
                f"{sorted(set(burst.refused.values()))}, {len(burst.refused)} activities)\n"
                f"{server.tail() if hasattr(server, 'tail') else ''}"
            )
            # What the restarted process does with its dead predecessor's leases.
            await take_back_leases(database_url)
        await server.start()
        # The peer sends again what it never saw answered (the duplicates are dropped).
        unanswered = [a for a in activities if a["id"] not in burst.accepted]
        await burst.send(unanswered)
        await wait_drained(database_url, within=30.0)
    finally:
        server.stop()
    assert not burst.refused, f"refused: {burst.refused}"
    result = await outcome(database_url, burst.accepted, alice)
    print(f"\ninbox crash ({database_url.split(':', 1)[0]}): {result}, "
          f"{time.monotonic() - started:.1f} s")  # fmt: skip
    assert result.accepted == len(activities)
    assert result.statuses == result.accepted
    assert result.lost == 0
    assert result.duplicated == 0
    assert result.failed_rows == 0
