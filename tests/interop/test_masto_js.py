"""masto.js, a Mastodon client library written by others, drives a real fedinode.

A fedinode instance is served on loopback (SQLite, then PostgreSQL) with three local users;
``node tests/interop/masto/run.mjs`` logs them in (OAuth password grant), verifies
credentials, follows, opens the follower's ``user`` stream over a WebSocket, posts as the
follower, posts as the followed account, follows a third account while streaming and posts as
it; it prints what it saw as JSON. Its packages come from ``npm ci`` in
tests/interop/masto (package-lock.json). Without node or those packages the test skips,
unless FEDINODE_TEST_REQUIRE_INTEROP=1 (CI) makes that a failure.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest
from federation.conftest import Instance, free_port

from interop.conftest import node_or_skip

MASTO_DIR = Path(__file__).parent / "masto"
NODE_TIMEOUT = 60.0


@pytest.fixture
def masto_node() -> str:
    """The node executable, once masto.js is installed; skip or fail loudly otherwise."""
    return node_or_skip(MASTO_DIR, "masto")


async def run_masto(node: str, args: dict[str, Any], script: str = "run.mjs") -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        node,
        str(MASTO_DIR / script),
        orjson.dumps(args).decode(),
        cwd=MASTO_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), NODE_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"masto.js script ran longer than {NODE_TIMEOUT} s") from None
    lines = out.decode().strip().splitlines()
    assert lines, f"masto.js printed nothing (exit {proc.returncode}): {err.decode()[-2000:]}"
    report: dict[str, Any] = orjson.loads(lines[-1])
    assert report.get("ok") is True and proc.returncode == 0, (report, err.decode()[-2000:])
    return report


async def test_masto_js_login_follow_stream_and_post(
    masto_node: str, database_url: str, tmp_path: Path
) -> None:
    instance = Instance("masto", free_port(), database_url, tmp_path / "masto")
    await instance.start()
    try:
        for name in ("alice", "bob", "carol"):
            await instance.user(name)
        report = await run_masto(
            masto_node,
            {
                "url": f"http://{instance.domain}",
                "password": "correct horse battery",  # what Instance.user sets
                "follower": "alice",
                "followed": "bob@masto.test",  # a login by email
                "later": "carol",
                "wait_ms": 10000,
            },
        )
    finally:
        await instance.stop()
    assert report["steps"] == [
        "instance",
        "verify_credentials",
        "follow",
        "stream_open",
        "own_update",
        "followed_update",
        "later_update",
        "home",
    ]
    assert report["streaming_url"] == f"ws://{instance.domain}"
    assert report["accts"] == ["alice", "bob", "carol"]
    assert report["following"] is True and report["later_following"] is True
    assert report["followed_update_acct"] == "bob"
    assert report["followed_update_content"] == "<p>from the followed account</p>"
    assert report["later_update_acct"] == "carol"
    assert report["home_has_all"] is True
    # Only updates (the follower's own post may take a second try, when it was made before the
    # server had read the subscribe message: that one is not streamed).
    assert set(report["events"]) == {"update"} and len(report["events"]) >= 3, report["events"]
