"""kill -9 in the middle of a fan-out: every follower still gets the post, soon after the
restart, and a post that arrives twice arrives with the same activity id."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from delivery_crash_harness import Followers, Server, followers_peer, free_port, seed, write_config

FOLLOWERS = 400
KILL_AFTER = 80  # deliveries that have arrived when the server is killed
RECOVERY_BOUND_S = 20.0  # from the restart's launch to the last follower reached
# With no take-back, the rows wait for their lease (5 s here; 300 s by default).
LEASE_RECOVERY_BOUND_S = 40.0


@dataclass(frozen=True)
class Outcome:
    at_kill: int  # followers reached before the kill
    ready: float  # seconds from the restart's launch to its first answer
    recovery: float  # seconds from the restart's launch to the last follower reached
    twice: int  # followers that got the post twice


async def _kill_mid_fan_out(
    database_url: str,
    tmp_path: Path,
    *,
    queue_before: str = "",
    queue_after: str = "",
    bound: float = RECOVERY_BOUND_S,
) -> Outcome:
    # Each inbox answers after 50 ms: the fan-out takes a second or so, time to kill it.
    async with followers_peer(delay=0.05) as peer:
        port = free_port()
        await seed(database_url, f"127.0.0.1:{port}", peer.port, FOLLOWERS)
        before, after = tmp_path / "before.toml", tmp_path / "after.toml"
        for path, queue in ((before, queue_before), (after, queue_after)):
            write_config(path, port=port, database_url=database_url, media=tmp_path / "media",
                         queue=queue)  # fmt: skip
        server = Server(before, port, tmp_path / "server.log")
        try:
            await server.start()
            await server.wait_ready()
            status = await server.post("to every follower")
            await peer.wait_for(lambda: len(peer.arrivals) >= KILL_AFTER, 30)
            await server.kill()
            at_kill = len(peer.reached())
            assert KILL_AFTER <= at_kill < FOLLOWERS, f"{at_kill} reached before the kill"

            server.config = after
            launched = await server.start()
            await server.wait_ready()
            ready = time.monotonic() - launched
            left = launched + bound + 10 - time.monotonic()
            await peer.wait_for(lambda: len(peer.reached()) >= FOLLOWERS, left)
            missing = FOLLOWERS - len(peer.reached())
            assert missing == 0, f"{missing} follower(s) never got the post\n{server.tail()}"
            recovery = max(a.at for a in peer.arrivals) - launched
        finally:
            await server.stop()
    _check_repeats(peer, str(status["uri"]))
    twice = sum(
        1 for n in range(FOLLOWERS) if sum(a.inbox == peer.inbox(n) for a in peer.arrivals) > 1
    )
    return Outcome(at_kill, ready, recovery, twice)


def _check_repeats(peer: Followers, status_uri: str) -> None:
    """Every arrival is the one Create of the post; a follower that got it twice got the
    same activity id and the same Idempotency-Key both times."""
    by_inbox: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for arrival in peer.arrivals:
        by_inbox[arrival.inbox].append((arrival.activity_id, arrival.idempotency_key))
    activity_ids = {a.activity_id for a in peer.arrivals}
    assert len(activity_ids) == 1 and status_uri in next(iter(activity_ids))
    for sent in by_inbox.values():
        assert len(set(sent)) == 1 and sent[0][1]
    assert len({sent[0][1] for sent in by_inbox.values()}) == FOLLOWERS  # one key per row


async def test_a_restarted_server_resumes_its_fan_out_at_once(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    """The restart takes back the rows the killed process held: no 5-minute lease wait."""
    outcome = await _kill_mid_fan_out(database_url, tmp_path)
    assert outcome.recovery < RECOVERY_BOUND_S, f"recovery took {outcome.recovery:.1f} s"
    print(
        f"\n[{backend}] take-back: {FOLLOWERS} followers, {outcome.at_kill} reached before the "
        f"kill; the restarted server answered after {outcome.ready:.2f} s and all were reached "
        f"{outcome.recovery:.2f} s after its launch; {outcome.twice} got the post twice"
    )


async def test_rows_of_a_process_that_never_returns_wait_only_for_the_lease(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    """The killed process had a name no later process takes: its rows are free once their
    lease ([queue] delivery_lease_seconds, 5 s here) runs out."""
    outcome = await _kill_mid_fan_out(
        database_url,
        tmp_path,
        queue_before='worker_name = "gone"\ndelivery_lease_seconds = 5',
        queue_after='worker_name = "another"',
        bound=LEASE_RECOVERY_BOUND_S,
    )
    assert outcome.recovery < LEASE_RECOVERY_BOUND_S, f"recovery took {outcome.recovery:.1f} s"
    print(
        f"\n[{backend}] lease of 5 s: {outcome.at_kill} reached before the kill; all reached "
        f"{outcome.recovery:.2f} s after the restart's launch ({outcome.ready:.2f} s to answer); "
        f"{outcome.twice} got the post twice"
    )
