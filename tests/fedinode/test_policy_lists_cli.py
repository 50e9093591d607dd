"""``fedinode policy publish|unpublish|subscriptions …`` run as an admin runs them, in a
subprocess, against a database on SQLite and PostgreSQL and a publisher on loopback."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ed25519
from test_cli import free_port
from test_policy_cli import write_config

from activitypub.policy_lists import SigningKey, signed_list
from policy.lists import ListEntry
from storage.paging import Page
from storage.store import Store

POLICY = """
[policy]
[[policy.domain_blocks]]
domain = "file.example"
publish = true
[[policy.subscriptions]]
url = "http://127.0.0.1:9/configured.json"
mode = "review"
priority = 7
"""


async def policy(config: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fedinode.cli", "--config", str(config), "--log-level", "WARNING",
        "policy", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=os.environ.copy(),
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def publisher() -> AsyncIterator[str]:
    """A signed list on loopback (an actor announcing its Ed25519 key, and the list)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    key = SigningKey.of(base + "/actor#k", base + "/actor", ed25519.Ed25519PrivateKey.generate())
    actor = {
        "id": key.controller,
        "type": "Application",
        "assertionMethod": [key.assertion_method()],
    }
    doc = signed_list(base + "/list.json", [ListEntry("block", "listed.example")], key)

    async def handle(request: web.Request) -> web.Response:
        body = actor if request.path == "/actor" else doc
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield base + "/list.json"
    await runner.cleanup()


async def test_publish_and_subscriptions_from_the_command_line(
    tmp_path: Path, database_url: str, publisher: str
) -> None:
    config = write_config(tmp_path / "fedinode.toml", database_url, free_port(), POLICY)
    config.write_text(
        config.read_text().replace(
            'scheme = "http"', 'scheme = "http"\nallow_private_addresses = true'
        )
    )
    store = await Store.open(database_url)
    try:
        await store.policy.create_domain_block("db.example", severity="silence")
        await store.policy.create_domain_block("other.example", severity="suspend")
    finally:
        await store.close()

    code, out, err = await policy(config, "publish", "db.example")
    assert code == 0, err
    assert "published 1 domain block(s): db.example" in out
    code, _, err = await policy(config, "publish", "nothing.example")
    assert code == 2 and "no domain block for nothing.example" in err
    code, out, _ = await policy(config, "publish", "--all")
    assert "published 3 domain block(s)" in out
    code, out, _ = await policy(config, "unpublish", "other.example")
    assert code == 0

    # the configured subscription is listed; one is added, synced, removed
    code, out, _ = await policy(config, "subscriptions", "list")
    assert "http://127.0.0.1:9/configured.json  mode=review priority=7 config" in out
    code, out, err = await policy(config, "subscriptions", "add", publisher, "--priority", "9")
    assert code == 0, err
    code, _, err = await policy(config, "subscriptions", "add", publisher)
    assert code == 2 and "already subscribed" in err
    code, out, err = await policy(config, "subscriptions", "sync", publisher)
    assert code == 0, err
    assert f"{publisher}: block listed.example" in out
    code, _, err = await policy(config, "subscriptions", "sync")
    assert code == 1 and "configured.json: refused: not fetched" in err  # nothing listens on :9
    code, out, err = await policy(config, "log", "--json", "--limit", "50")
    assert code == 0, err
    records = [orjson.loads(line) for line in out.splitlines()]
    assert {
        (r["peer"], r["rule"], r["source"]) for r in records if r["action"] == "block"
    } >= {("listed.example", "subscription", publisher)}
    code, out, _ = await policy(config, "subscriptions", "remove", publisher)
    assert code == 0 and "unsubscribed" in out
    code, _, err = await policy(config, "subscriptions", "remove", publisher)
    assert code == 2 and "not subscribed" in err

    store = await Store.open(database_url)
    try:
        marks = {(m.domain, m.published) for m in await store.policy_lists.marks()}
        assert {("db.example", True), ("file.example", True), ("other.example", False)} <= marks
        assert "listed.example" in {b.domain for b in await store.policy.domain_blocks()}
        logged = await store.policy.decisions(Page(limit=10), rule="subscription")
        assert ("listed.example", "block", publisher) in {
            (d.peer, d.action, d.activity_id) for d in logged
        }
        assert [s.url for s in await store.policy_lists.subscriptions()] == [
            "http://127.0.0.1:9/configured.json"
        ]
    finally:
        await store.close()
