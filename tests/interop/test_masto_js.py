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

from pathlib import Path
from typing import Any

import pytest
from federation.conftest import Instance, free_port

from interop.conftest import node_or_skip, run_node_script

MASTO_DIR = Path(__file__).parent / "masto"
NODE_TIMEOUT = 60.0


@pytest.fixture
def masto_node() -> str:
    """The node executable, once masto.js is installed; skip or fail loudly otherwise."""
    return node_or_skip(MASTO_DIR, "masto")


async def run_masto(node: str, args: dict[str, Any], script: str = "run.mjs") -> dict[str, Any]:
    return await run_node_script(node, MASTO_DIR, script, args, NODE_TIMEOUT)


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
