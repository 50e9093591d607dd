"""[policy.peer_limits] at the inbox, with signed deliveries from a peer on loopback, on
SQLite and PostgreSQL: over a limit the inbox answers 429 with Retry-After, the policy log
records rule peer_limit once per window, per-domain overrides win over the defaults, and two
servers on one database (what ``serve --workers N`` runs) share one count."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from federation.conftest import Instance, free_port
from remote_peer import FakePeer, start_peer

from policy.settings import settings_from_mapping
from storage.paging import Page


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    p = await start_peer({"mallory": 0})
    yield p
    await p.server.close()


def _create(peer: FakePeer, n: int) -> dict[str, Any]:
    uri = peer.actor_uri("mallory")
    public = ["https://www.w3.org/ns/activitystreams#Public"]
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{uri}/statuses/{n}/activity", "type": "Create", "actor": uri, "to": public,
        "object": {"id": f"{uri}/statuses/{n}", "type": "Note", "attributedTo": uri,
                   "content": f"<p>post {n}</p>", "to": public,
                   "published": "2026-01-01T00:00:00Z"},
    }  # fmt: skip


async def _send(
    port: int, home: Instance, peer: FakePeer, n: int
) -> tuple[int, dict[str, str]]:
    """A signed delivery of post ``n`` to ``home``'s inbox, through the server on ``port``."""
    body, headers = peer.signed_post(f"http://{home.domain}/inbox", _create(peer, n),
                                     signer="mallory")  # fmt: skip
    async with aiohttp.ClientSession() as session:
        async with session.post(f"http://127.0.0.1:{port}/inbox", data=body,
                                headers={**headers, "Host": home.domain}) as resp:  # fmt: skip
            return resp.status, dict(resp.headers)


# The middle of one minute of one day: a test never straddles two windows.
PINNED_MS = 1_796_000_000_000 - 1_796_000_000_000 % 86_400_000 + 43_230_000


def _pin_clock(app: Any) -> None:
    from fedinode import appkeys

    app[appkeys.FEDERATION].intake.limiter.clock = lambda: PINNED_MS


Start = Callable[[dict[str, Any]], Awaitable[Instance]]


@pytest.fixture
async def start(
    tmp_path: Path, backend: str, database_url_factory: Callable[[str], Awaitable[str]]
) -> AsyncIterator[Start]:
    started: list[Instance] = []

    async def make(policy: dict[str, Any]) -> Instance:
        url = await database_url_factory(backend)
        home = Instance("home", free_port(), url, tmp_path / "home",
                        policy=settings_from_mapping("open", policy))  # fmt: skip
        await home.start()
        started.append(home)
        _pin_clock(home.app)
        return home

    yield make
    for instance in reversed(started):
        await instance.stop()


async def test_requests_per_minute_with_an_override(start: Start, peer: FakePeer) -> None:
    home = await start({"peer_limits": {
        "requests_per_minute": 1,
        "overrides": [{"domain": peer.domain, "requests_per_minute": 3}],
    }})  # fmt: skip
    answers = [await _send(home.port, home, peer, n) for n in range(1, 6)]
    assert [status for status, _ in answers] == [202, 202, 202, 429, 429]
    assert answers[3][1]["Retry-After"] == "30"  # the pinned clock is 30 s into its minute
    records = await home.store.policy.decisions(Page(limit=50), rule="peer_limit")
    assert len(records) == 1  # once per window, however often the peer knocks
    record = records[0]
    assert (record.direction, record.peer, record.action, record.enforced) == (
        "inbound", peer.domain, "throttle", True
    )
    assert "requests_per_minute = 3" in record.reason
    assert record.activity_id == f"{peer.actor_uri('mallory')}/statuses/4/activity"
    assert await home.store.queues.inbox_pending() + sum(
        (await home.store.queues.inbox_by_state()).values()
    ) >= 3


async def test_activities_per_day(start: Start, peer: FakePeer) -> None:
    home = await start({"peer_limits": {"activities_per_day": 2}})
    answers = [await _send(home.port, home, peer, n) for n in range(1, 4)]
    assert [status for status, _ in answers] == [202, 202, 429]
    assert answers[2][1]["Retry-After"] == str(86_400 - 43_230)  # to the next UTC midnight
    assert sum((await home.store.queues.inbox_by_state()).values()) == 2
    records = await home.store.policy.decisions(Page(limit=50), rule="peer_limit")
    assert [r.reason.split(" reached")[0] for r in records] == ["activities_per_day = 2"]
    # A duplicate of an accepted activity is not a new one, but it is counted: the sender
    # is told to wait like for any other.
    assert (await _send(home.port, home, peer, 1))[0] == 429


async def test_dry_run_logs_but_lets_through(start: Start, peer: FakePeer) -> None:
    home = await start({"dry_run": True, "peer_limits": {"requests_per_minute": 1}})
    assert [(await _send(home.port, home, peer, n))[0] for n in (1, 2)] == [202, 202]
    records = await home.store.policy.decisions(Page(limit=50), rule="peer_limit")
    assert [(r.action, r.enforced) for r in records] == [("throttle", False)]


async def test_two_servers_on_one_database_share_the_count(
    start: Start, peer: FakePeer, tmp_path: Path
) -> None:
    home = await start({"peer_limits": {"requests_per_minute": 3}})
    # A second server process on the same database and configuration, another port: what
    # each process of `serve --workers N` is.
    other = dataclasses.replace(home, port=free_port(), runner=None, app=None)
    config = home.config
    other_config = dataclasses.replace(
        config, server=dataclasses.replace(config.server, port=other.port)
    )
    from aiohttp import web

    from fedinode.app import create_app

    app = create_app(other_config)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        _pin_clock(app)
        await web.TCPSite(runner, "127.0.0.1", other.port, reuse_address=True).start()
        statuses = []
        for n in range(1, 7):
            port = home.port if n % 2 else other.port
            statuses.append((await _send(port, home, peer, n))[0])
        assert statuses.count(202) == 3 and statuses.count(429) == 3, statuses
        assert statuses[:3] == [202, 202, 202]
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[policy.peer_limits]\nrequests_per_minute = -1\n", "policy.peer_limits.requests_per_minute"),
        ("[policy.peer_limits]\nrequests_per_hour = 5\n", "policy.peer_limits.requests_per_hour"),
        ('[policy.peer_limits]\n[[policy.peer_limits.overrides]]\nrequests_per_minute = 5\n',
         "policy.peer_limits.overrides[0].domain"),
        ('[[policy.peer_limits.overrides]]\ndomain = "a.example"\nmedia_bytes_per_day = "1MB"\n',
         "policy.peer_limits.overrides[0].media_bytes_per_day"),
    ],
)
def test_bad_peer_limits_name_the_key(tmp_path: Path, toml: str, key: str) -> None:
    from fedinode.config import ConfigError, load_config

    path = tmp_path / "f.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert info.value.key == key


def test_overrides_inherit_what_they_leave_out(tmp_path: Path) -> None:
    from fedinode.config import load_config

    path = tmp_path / "f.toml"
    path.write_text(
        "[policy.peer_limits]\nrequests_per_minute = 60\nactivities_per_day = 1000\n"
        '[[policy.peer_limits.overrides]]\ndomain = "*.big.example"\nrequests_per_minute = 600\n',
        encoding="utf-8",
    )
    limits = load_config(path, environ={}).policy.peer_limits
    big = limits.for_host("social.big.example")
    assert (big.requests_per_minute, big.activities_per_day) == (600, 1000)
    assert limits.for_host("small.example").requests_per_minute == 60
