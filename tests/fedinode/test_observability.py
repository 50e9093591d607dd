"""What an operator's monitoring sees: /livez, /readyz, /metrics (Prometheus text, for
allowed clients only) and JSON log lines, on a real server over each backend."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from fedinode import appkeys
from fedinode.app import create_app
from fedinode.config import Config, ConfigError, load_config
from fedinode.health import READINESS
from fedinode.logs import JsonFormatter, access_log_options
from fedinode.middlewares import CURRENT_REQUEST_ID
from policy.settings import settings_from_mapping
from storage.queues import NewDelivery


def _with(config: Config, **sections: Any) -> Config:
    return dataclasses.replace(
        config,
        **{
            name: dataclasses.replace(getattr(config, name), **values)
            for name, values in sections.items()
        },
    )


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text page, keyed by name and sorted labels."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_livez_and_readyz_answer_then_readyz_fails_with_the_database(
    aiohttp_client: Any, config: Config
) -> None:
    app = create_app(config, role="web")
    client = await aiohttp_client(app)
    app[READINESS].ttl = 0  # no cached verdict between the steps of this test
    async with client.get("/livez") as r:
        assert r.status == 200 and (await r.json())["status"] == "live"
    async with client.get("/readyz") as r:
        assert r.status == 200 and await r.json() == {"status": "ready"}

    # A migration this process expects is missing: not ready, and it says which.
    store = app[appkeys.STORE]
    name = str(
        await store.db.fetchval("SELECT name FROM schema_version ORDER BY version DESC LIMIT 1")
    )
    await store.db.execute("DELETE FROM schema_version WHERE name = $1", name)
    async with client.get("/readyz") as r:
        assert r.status == 503
        assert await r.json() == {"status": "unavailable", "reason": f"migrations pending: {name}"}

    # The database goes away: still live, no longer ready.
    await store.db.close()
    async with client.get("/livez") as r:
        assert r.status == 200
    async with client.get("/readyz") as r:
        assert r.status == 503
        assert await r.json() == {"status": "unavailable", "reason": "database unreachable"}
    async with client.get("/metrics") as r:
        assert r.status == 200
        assert _value(_samples(await r.text()), "fedinode_database_up") == 0


async def test_metrics_count_requests_by_route_and_show_queue_depths(
    aiohttp_client: Any, config: Config
) -> None:
    app = create_app(config, role="web")  # no worker: a queued delivery stays queued
    client = await aiohttp_client(app)
    for name in ("alice", "bob", "alice"):
        async with client.get(
            f"/users/{name}", headers={"Accept": "application/activity+json"}
        ) as r:
            assert r.status == 404  # nobody by that name: counted under the route, as 4xx
    async with client.get("/api/v1/instance/") as r:  # the trailing slash is the same route
        assert r.status == 200
    async with client.get("/no/such/page") as r:
        assert r.status == 404
    async with client.post("/inbox", data=b"{}", headers={"Content-Type": "text/plain"}) as r:
        assert r.status == 415
    async with client.post(
        "/inbox", data=b"not json", headers={"Content-Type": "application/activity+json"}
    ) as r:
        assert r.status == 400

    store = app[appkeys.STORE]
    sender_id = int(await store.db.fetchval("SELECT MIN(id) FROM accounts"))  # the instance actor
    await store.queues.enqueue_deliveries(
        [NewDelivery(activity_id="https://local.test/a/1", inbox_url="https://r.test/inbox", peer="r.test",
                     sender_account_id=sender_id, payload="{}")],
        ttl_ms=60_000,
    )  # fmt: skip
    await store.queues.peer_result("r.test", False)

    async with client.get("/metrics") as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        samples = _samples(await r.text())
    route = {"method": "GET", "route": "/users/{username}", "status": "4xx"}
    assert _value(samples, "fedinode_http_requests_total", **route) == 3
    assert not any("alice" in str(labels) for _name, labels in samples)  # never the raw path
    assert (
        _value(
            samples,
            "fedinode_http_requests_total",
            method="GET",
            route="/api/v1/instance",
            status="2xx",
        )
        == 1
    )
    assert (
        _value(
            samples, "fedinode_http_requests_total", method="GET", route="unmatched", status="4xx"
        )
        == 1
    )
    assert (
        _value(
            samples,
            "fedinode_http_request_duration_seconds_count",
            method="GET",
            route="/users/{username}",
        )
        == 3
    )
    assert _value(samples, "fedinode_inbox_requests_total", outcome="content_type") == 1
    assert _value(samples, "fedinode_inbox_requests_total", outcome="malformed") == 1
    assert _value(samples, "fedinode_queue_rows", queue="delivery", state="queued") == 1
    assert _value(samples, "fedinode_queue_rows", queue="inbox", state="queued") == 0
    assert _value(samples, "fedinode_deliveries_dead") == 0
    assert _value(samples, "fedinode_peers_unreachable") == 1
    assert _value(samples, "fedinode_database_up") == 1
    assert _value(samples, "fedinode_streaming_connections") == 0
    if store.dialect == "postgres":
        assert _value(samples, "fedinode_db_pool_connections", state="max") >= 1


async def test_metrics_refuse_clients_not_allowed(aiohttp_client: Any, config: Config) -> None:
    config = _with(config, metrics={"allow": ("10.0.0.0/8",), "token": "s3cret-scrape"})
    client = await aiohttp_client(create_app(config, role="web"))
    async with client.get("/metrics") as r:
        assert r.status == 403 and "error" in await r.json()
    async with client.get("/metrics", headers={"Authorization": "Bearer wrong"}) as r:
        assert r.status == 403
    async with client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"}) as r:
        assert r.status == 200
    # Through a trusted local proxy, the outside client's address is the one that counts.
    config = _with(config, metrics={"allow": ("127.0.0.1", "::1"), "token": ""})
    client = await aiohttp_client(create_app(config, role="web"))
    async with client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}) as r:
        assert r.status == 403
    async with client.get("/metrics") as r:
        assert r.status == 200


async def test_metrics_can_be_turned_off(aiohttp_client: Any, config: Config) -> None:
    client = await aiohttp_client(create_app(_with(config, metrics={"enabled": False}), role="web"))
    async with client.get("/metrics") as r:
        assert r.status == 404
    async with client.get("/livez") as r:
        assert r.status == 200


def test_metrics_and_logging_settings_are_checked() -> None:
    config = load_config(
        None,
        environ={"FEDINODE_METRICS__ALLOW": "10.1.0.0/16, ::1", "FEDINODE_LOGGING__FORMAT": "json"},
    )
    assert config.metrics.allow == ("10.1.0.0/16", "::1") and config.logging.format == "json"
    with pytest.raises(ConfigError, match=r"metrics\.allow"):
        load_config(None, environ={"FEDINODE_METRICS__ALLOW": "everyone"})
    with pytest.raises(ConfigError, match=r"logging\.format"):
        load_config(None, environ={"FEDINODE_LOGGING__FORMAT": "xml"})


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the ``fedinode`` loggers write, as [logging] format = "json" writes it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("fedinode")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(old_level)


async def test_json_access_log_lines_carry_the_request(
    aiohttp_client: Any, config: Config, json_log: io.StringIO
) -> None:
    config = _with(config, logging={"format": "json"})
    server = TestServer(create_app(config, role="web"))
    await server.start_server(**access_log_options(config))  # as `fedinode serve` runs it
    client = await aiohttp_client(server)
    async with client.get(
        "/livez?access_token=secret", headers={"X-Request-Id": "req-42", "User-Agent": "probe/1"}
    ) as r:
        assert r.status == 200
    await client.close()
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    access = [line for line in lines if line["logger"] == "fedinode.access"]
    assert len(access) == 1
    entry = access[0]
    assert entry["level"] == "INFO" and entry["time"].endswith("Z")
    assert entry["request_id"] == "req-42" and entry["client_ip"] == "127.0.0.1"
    assert entry["method"] == "GET" and entry["path"] == "/livez" and entry["status"] == 200
    assert entry["route"] == "/livez"
    assert entry["user_agent"] == "probe/1" and entry["duration_ms"] >= 0
    assert "secret" not in json_log.getvalue()  # query strings (tokens) never reach the log


def test_json_lines_in_a_request_carry_its_id(json_log: io.StringIO) -> None:
    token = CURRENT_REQUEST_ID.set("abc123")
    try:
        logging.getLogger("fedinode.http").warning("something %s", "odd")
    finally:
        CURRENT_REQUEST_ID.reset(token)
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("fedinode.http").exception("failed")
    first, second = (json.loads(line) for line in json_log.getvalue().splitlines())
    assert first == {"time": first["time"], "level": "WARNING", "logger": "fedinode.http",
                     "message": "something odd", "request_id": "abc123"}  # fmt: skip
    assert second["level"] == "ERROR" and "request_id" not in second
    assert "ValueError: boom" in second["exception"]


async def test_text_access_log_is_one_short_line(aiohttp_client: Any, config: Config) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("fedinode.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        server = TestServer(create_app(config, role="web"))
        await server.start_server(**access_log_options(config))
        client = await aiohttp_client(server)
        async with client.get("/livez?access_token=secret") as r:
            assert r.status == 200
        await client.close()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    (line,) = out.getvalue().splitlines()
    assert line.startswith('127.0.0.1 "GET /livez" 200 ') and line.endswith("ms")
    assert "secret" not in line


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _wait_live(base: str, proc: subprocess.Popen[str]) -> int:
    """Poll /livez until it answers; return how many 200s it took (one)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"server exited early: {proc.stderr.read() if proc.stderr else ''}"
            )
        try:
            if _get(base + "/livez")[0] == 200:
                return 1
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{base} never answered")


def test_two_processes_sum_their_counts_and_log_json(tmp_path: Path, database_url: str) -> None:
    """`fedinode serve` twice on one database with PROMETHEUS_MULTIPROC_DIR: either process's
    /metrics counts the requests of both; [logging] format = "json" makes stderr JSON lines."""
    ports = [_free_port(), _free_port()]
    shared = tmp_path / "prometheus"
    shared.mkdir()
    config = tmp_path / "fedinode.toml"
    config.write_text(
        f'[instance]\ndomain = "127.0.0.1:{ports[0]}"\n[database]\nurl = "{database_url}"\n'
        f'[federation]\nscheme = "http"\n[media]\ndirectory = "{tmp_path / "media"}"\n'
        '[logging]\nformat = "json"\n'
    )
    env = {**os.environ, "FEDINODE_CONFIG": str(config), "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    procs: list[subprocess.Popen[str]] = []
    try:
        counts = []
        for port in ports:  # one after the other: the first applies the migrations
            proc = subprocess.Popen(
                [sys.executable, "-m", "fedinode.cli", "serve"],
                env={**env, "FEDINODE_SERVER__PORT": str(port)},
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            procs.append(proc)
            counts.append(_wait_live(f"http://127.0.0.1:{port}", proc))
        for port, extra in zip(ports, (3, 2), strict=True):
            for _ in range(extra):
                assert _get(f"http://127.0.0.1:{port}/livez")[0] == 200
            counts[ports.index(port)] += extra
        for port in ports:
            status, text = _get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200
            samples = _samples(text)
            live = _value(
                samples, "fedinode_http_requests_total", method="GET", route="/livez", status="2xx"
            )
            assert live == sum(counts)  # both processes' requests, from either of them
            assert _value(samples, "fedinode_database_up") == 1
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            assert proc.wait(timeout=30) == 0
            err = proc.stderr.read() if proc.stderr else ""
            lines = [json.loads(line) for line in err.splitlines() if line.strip()]
            assert any(line["logger"] == "fedinode" for line in lines)
            access = [line for line in lines if line["logger"] == "fedinode.access"]
            assert access and all(
                line["client_ip"] == "127.0.0.1" and line["request_id"] for line in access
            )
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


async def test_metrics_count_policy_refusals_at_the_inbox(
    aiohttp_client: Any, config: Config
) -> None:
    blocked = settings_from_mapping(
        "open", {"domain_blocks": [{"domain": "blocked.test", "severity": "suspend"}]}
    )
    app = create_app(config.with_policy(blocked), role="web")
    client = await aiohttp_client(app)
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://blocked.test/activities/1",
        "type": "Follow",
        "actor": "https://blocked.test/users/mallory",
        "object": "https://local.test/users/alice",
    }
    for _ in range(2):
        async with client.post(
            "/inbox", json=follow, headers={"Content-Type": "application/activity+json"}
        ) as r:
            assert r.status == 403
    async with client.get("/metrics") as r:
        samples = _samples(await r.text())
    assert _value(samples, "fedinode_inbox_requests_total", outcome="refused") == 2
    decisions = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "fedinode_policy_decisions_total"
    }
    assert sum(decisions.values()) == 2
    (labels,) = decisions
    assert dict(labels)["direction"] == "inbound" and dict(labels)["enforced"] == "true"
    assert dict(labels)["action"] == "reject"


async def test_metrics_show_open_streams(aiohttp_client: Any, config: Config) -> None:
    client = await aiohttp_client(create_app(config, role="web"))

    async def streams() -> float:
        async with client.get("/metrics") as r:
            return _value(_samples(await r.text()), "fedinode_streaming_connections")

    assert await streams() == 0
    ws = await client.ws_connect("/api/v1/streaming?stream=public")
    async with client.get("/api/v1/streaming/public/local") as sse:
        assert sse.status == 200
        for _ in range(50):  # the WebSocket's subscription lands a moment after the upgrade
            if await streams() == 2:
                break
            await asyncio.sleep(0.05)
        assert await streams() == 2
    await ws.close()
    for _ in range(50):
        if await streams() == 0:
            break
        await asyncio.sleep(0.05)
    assert await streams() == 0
