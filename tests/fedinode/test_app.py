"""create_app with no [instance] domain: a local instance whose every advertised URL names
where it is served ([server] host:port, plain http), on each backend."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from fedinode.app import create_app
from fedinode.config import load_config


async def test_a_local_instance_advertises_where_it_is_served(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    raw = load_config(None, environ={"FEDINODE_SERVER__PORT": "9123"})
    config = dataclasses.replace(
        raw,
        database=dataclasses.replace(raw.database, url=database_url),
        media=dataclasses.replace(raw.media, directory=str(tmp_path / "media")),
    )
    client = await aiohttp_client(create_app(config))
    base = "http://127.0.0.1:9123"

    async def get(path: str, accept: str = "application/json") -> Any:
        async with client.get(path, headers={"Accept": accept}) as r:
            assert r.status == 200, path
            return await r.json(content_type=None)

    v2 = await get("/api/v2/instance")
    assert v2["domain"] == "127.0.0.1:9123"
    assert v2["configuration"]["urls"]["streaming"] == "ws://127.0.0.1:9123"
    assert v2["thumbnail"]["url"].startswith(base + "/")
    v1 = await get("/api/v1/instance")
    assert v1["uri"] == "127.0.0.1:9123"
    assert v1["urls"]["streaming_api"] == "ws://127.0.0.1:9123"
    links = (await get("/.well-known/nodeinfo"))["links"]
    assert {link["href"] for link in links} == {f"{base}/nodeinfo/2.0", f"{base}/nodeinfo/2.1"}
    oauth = await get("/.well-known/oauth-authorization-server")
    assert oauth["issuer"] == base + "/" and oauth["token_endpoint"] == base + "/oauth/token"
    actor = await get("/actor", accept="application/activity+json")
    assert actor["id"] == base + "/actor" and actor["inbox"].startswith(base + "/")
    jrd = await get("/.well-known/webfinger?resource=acct:instance.actor@127.0.0.1:9123")
    assert jrd["subject"] == "acct:instance.actor@127.0.0.1:9123"


async def test_a_start_on_postgresql_without_autovacuum_warns(
    aiohttp_client: Any, database_url: str, tmp_path: Path, caplog: Any
) -> None:
    """The operator hears of an autovacuum turned off (tables bloat, timelines slow down);
    this test's cluster may run either way, so the warning must match its setting."""
    import logging

    import asyncpg

    raw = load_config(None)
    config = dataclasses.replace(
        raw,
        database=dataclasses.replace(raw.database, url=database_url),
        media=dataclasses.replace(raw.media, directory=str(tmp_path / "media")),
    )
    with caplog.at_level(logging.WARNING, logger="fedinode"):
        await aiohttp_client(create_app(config))
    warned = any("autovacuum is off" in r.getMessage() for r in caplog.records)
    if not database_url.startswith("postgresql"):
        assert not warned
        return
    conn = await asyncpg.connect(database_url.split("?")[0])
    try:
        off = await conn.fetchval("SHOW autovacuum") == "off"
    finally:
        await conn.close()
    assert warned is off
