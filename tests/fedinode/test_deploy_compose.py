"""deploy/compose.yaml and the Containerfile's HEALTHCHECK: the commands they run are the
CLI's, the environment they set is a valid configuration pointing at the compose services,
and the health check command answers as /readyz does, against a real server."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp.test_utils import TestServer

from fedinode import appkeys
from fedinode.app import create_app
from fedinode.cli import build_parser
from fedinode.config import Config, load_config
from fedinode.health import READINESS

DEPLOY = Path(__file__).parents[2] / "deploy"
_VARIABLE = re.compile(r"\$\{([A-Z_]+)(?::([?-])([^}]*))?\}")


def interpolate(value: str, environ: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message}."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.group(1), match.group(2), match.group(3) or ""
        if environ.get(name):
            return environ[name]
        if kind == "?":
            raise KeyError(f"{name}: {rest}")
        return rest if kind == "-" else ""

    return _VARIABLE.sub(one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def environment(service: dict[str, Any], environ: dict[str, str]) -> dict[str, str]:
    return {key: interpolate(str(value), environ) for key, value in service["environment"].items()}


def test_compose_runs_postgres_redis_migrate_web_and_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker"}
    parser = build_parser()
    for name, role in (("web", "web"), ("worker", "worker")):
        command = services[name]["command"]
        assert command[0] == "fedinode"
        args = parser.parse_args(command[1:])
        assert (args.command, args.role) == ("serve", role)
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert services[name]["build"]["dockerfile"] == "deploy/Containerfile"
        assert (DEPLOY.parent / services[name]["build"]["context"].removeprefix("../")).is_dir()
    assert parser.parse_args(services["migrate"]["command"][1:]).command == "migrate"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["worker"]["healthcheck"] == {"disable": True}  # no HTTP port
    assert "healthcheck" not in services["web"]  # the image's: /readyz


def test_compose_environment_is_a_valid_configuration_of_its_services(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    with pytest.raises(KeyError, match="FEDINODE_DOMAIN"):
        environment(services["web"], {})  # the domain must be given
    given = {"FEDINODE_DOMAIN": "social.example.org", "POSTGRES_PASSWORD": "s3cret"}
    for name in ("migrate", "web", "worker"):
        config = load_config(None, environ=environment(services[name], given))
        assert config.instance.domain == "social.example.org"
        assert config.database.url == "postgresql://fedinode:s3cret@postgres:5432/fedinode"
        assert config.events.url.startswith("redis://redis:6379/")
        assert config.rate_limits.storage.startswith("redis://redis:6379/")
        assert config.media.directory in {
            volume.split(":")[1] for volume in services[name]["volumes"]
        }
    web = load_config(None, environ=environment(services["web"], given))
    assert web.server.workers == 2 and web.server.trusted_proxies == ("172.16.0.0/12",)
    postgres = services["postgres"]["environment"]
    assert (postgres["POSTGRES_USER"], postgres["POSTGRES_DB"]) == ("fedinode", "fedinode")


def healthcheck_command() -> list[str]:
    text = (DEPLOY / "Containerfile").read_text()
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*?\])$", text, re.M | re.S)
    assert match, "the Containerfile has a HEALTHCHECK ... CMD [...]"
    command = json.loads(match.group(1))
    assert isinstance(command, list) and "/readyz" in command[-1]
    return [sys.executable if command[0] == "python" else command[0], *command[1:]]


def run_check(port: int) -> int:
    done = subprocess.run(
        healthcheck_command(),
        env={**os.environ, "FEDINODE_SERVER__PORT": str(port)},
        capture_output=True, timeout=30,
    )  # fmt: skip
    return done.returncode


async def test_the_image_health_check_passes_when_ready_and_fails_otherwise(
    config: Config,
) -> None:
    server = TestServer(create_app(config, role="web"), host="127.0.0.1")
    await server.start_server()
    try:
        port = server.port
        assert port is not None
        assert await asyncio.to_thread(run_check, port) == 0
        # Migrations pending: /readyz says 503, so the check fails.
        server.app[READINESS].ttl = 0  # no cached verdict between the steps
        store = server.app[appkeys.STORE]
        await store.db.execute("DELETE FROM schema_version WHERE version = 28")
        assert await asyncio.to_thread(run_check, port) != 0
    finally:
        await server.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = int(s.getsockname()[1])
    assert await asyncio.to_thread(run_check, closed) != 0  # nothing serves
