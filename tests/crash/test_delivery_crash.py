"""kill -9 in the middle of a fan-out: every follower still gets the post, soon after the
restart, and a post that arrives twice arrives with the same activity id."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

from delivery_crash_harness import Server, followers_peer, free_port, seed, write_config

FOLLOWERS = 400
KILL_AFTER = 80  # deliveries that have arrived when the server is killed
RECOVERY_BOUND_S = 20.0  # from the restart's launch to the last follower reached


async def test_fan_out_survives_kill_9(backend: str, database_url: str, tmp_path: Path) -> None:
    # Each inbox answers after 50 ms: the fan-out takes a second or so, time to kill it.
    async with followers_peer(delay=0.05) as peer:
        port = free_port()
        domain = f"127.0.0.1:{port}"
        await seed(database_url, domain, peer.port, FOLLOWERS)
        config = tmp_path / "fedinode.toml"
        write_config(config, port=port, database_url=database_url, media=tmp_path / "media")
        server = Server(config, port, tmp_path / "server.log")
        try:
            await server.start()
            await server.wait_ready()
            status = await server.post("to every follower")
            await peer.wait_for(lambda: len(peer.arrivals) >= KILL_AFTER, 30)
            await server.kill()
            at_kill = len(peer.reached())
            assert KILL_AFTER <= at_kill < FOLLOWERS, f"{at_kill} reached before the kill"

            launched = await server.start()
            await server.wait_ready()
            ready = time.monotonic() - launched
            left = launched + RECOVERY_BOUND_S + 10 - time.monotonic()
            await peer.wait_for(lambda: len(peer.reached()) >= FOLLOWERS, left)
            all_reached = max(a.at for a in peer.arrivals)
            recovery = all_reached - launched
            missing = FOLLOWERS - len(peer.reached())
            assert missing == 0, f"{missing} follower(s) never got the post\n{server.tail()}"
            assert recovery < RECOVERY_BOUND_S, f"recovery took {recovery:.1f} s"
        finally:
            await server.stop()

    # Every arrival is the one Create of the post; a follower that got it twice got the
    # same activity id and the same Idempotency-Key both times.
    by_inbox: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for arrival in peer.arrivals:
        by_inbox[arrival.inbox].append((arrival.activity_id, arrival.idempotency_key))
    activity_ids = {a.activity_id for a in peer.arrivals}
    assert len(activity_ids) == 1 and str(status["uri"]) in next(iter(activity_ids))
    for sent in by_inbox.values():
        assert len(set(sent)) == 1 and sent[0][1]
    assert len({sent[0][1] for sent in by_inbox.values()}) == FOLLOWERS  # one key per row
    twice = sum(1 for sent in by_inbox.values() if len(sent) > 1)
    print(
        f"\n[{backend}] {FOLLOWERS} followers: {at_kill} reached before the kill; the restarted "
        f"server answered after {ready:.2f} s and all {FOLLOWERS} were reached {recovery:.2f} s "
        f"after its launch; {twice} got the post twice"
    )
