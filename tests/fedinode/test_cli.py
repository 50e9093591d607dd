"""The fedinode command, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from ports import free_port


def fedinode(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedinode.cli", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})}, cwd=cwd,
    )


@pytest.fixture
def config_file(tmp_path: Path, database_url: str) -> Path:
    port = free_port()
    path = tmp_path / "fedinode.toml"
    path.write_text(
        f'[instance]\ndomain = "127.0.0.1:{port}"\ntitle = "Test node"\n'
        f'[server]\nport = {port}\n[database]\nurl = "{database_url}"\n'
        f'[federation]\nscheme = "http"\n'
    )
    return path


# "2026-01-01 12:00:00,000 INFO fedinode: ..." (cli.main's logging format)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ ")


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def wait_for(url: str, proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.stderr.read() if proc.stderr else ''}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_migrate_is_idempotent(config_file: Path) -> None:
    first = fedinode("--config", str(config_file), "migrate")
    assert first.returncode == 0, first.stderr
    assert "0001_initial.sql" in first.stdout
    second = fedinode("--config", str(config_file), "migrate")
    assert second.returncode == 0, second.stderr
    assert "schema is current" in second.stdout


def test_user_create_and_duplicates(config_file: Path) -> None:
    ok = fedinode("--config", str(config_file), "user", "create", "alice", "--email", "alice@example.org",
                  "--password", "correct horse battery")
    assert ok.returncode == 0, ok.stderr
    assert "@alice@" in ok.stdout
    dup_name = fedinode("--config", str(config_file), "user", "create", "Alice", "--email", "other@example.org",
                        "--password", "correct horse battery")
    assert dup_name.returncode == 2
    assert "username alice is already taken" in dup_name.stderr.lower()
    dup_email = fedinode("--config", str(config_file), "user", "create", "bob", "--email", "ALICE@example.org",
                         "--password", "correct horse battery")
    assert dup_email.returncode == 2
    assert "email" in dup_email.stderr
    bad = fedinode("--config", str(config_file), "user", "create", "no spaces", "--email", "x@example.org",
                   "--password", "correct horse battery")
    assert bad.returncode == 2 and "username" in bad.stderr


def test_usage_errors_exit_2() -> None:
    assert fedinode("frobnicate").returncode == 2
    assert fedinode("user", "create", "x").returncode == 2  # --email and --password missing


def test_serve_answers_and_stops_on_sigterm(config_file: Path) -> None:
    assert fedinode("--config", str(config_file), "user", "create", "alice", "--email", "a@example.org",
                    "--password", "correct horse battery").returncode == 0
    port = int(config_file.read_text().split("port = ")[1].split("\n")[0])
    proc = subprocess.Popen(
        [sys.executable, "-m", "fedinode.cli", "serve"],
        env={**os.environ, "FEDINODE_CONFIG": str(config_file)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/api/v1/instance", proc)
        v1 = get_json(base + "/api/v1/instance")
        assert v1["title"] == "Test node"
        assert v1["stats"]["user_count"] == 1
        assert "(compatible; fedinode" in v1["version"]
        v2 = get_json(base + "/api/v2/instance/")
        assert v2["configuration"]["statuses"]["max_characters"] > 0
        links = get_json(base + "/.well-known/nodeinfo")["links"]
        assert {link["href"].rsplit("/", 1)[1] for link in links} == {"2.0", "2.1"}
        ni = get_json(base + "/nodeinfo/2.1")
        assert ni["usage"]["users"]["total"] == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_with_no_config_uses_defaults(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fedinode.cli", "serve"],
        env={**os.environ, "FEDINODE_SERVER__PORT": str(port)}, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/api/v1/instance", proc)
        assert (tmp_path / "fedinode-data" / "fedinode.sqlite3").exists()
        # no [instance] domain: a local instance, and the first log line says so
        assert proc.stderr is not None
        first = next(line for line in iter(proc.stderr.readline, "") if LOG_LINE.match(line))
        assert "local instance at " + base in first, first
        # every advertised URL works where it is served
        links = get_json(base + "/.well-known/nodeinfo")["links"]
        assert {link["href"] for link in links} == {f"{base}/nodeinfo/2.0", f"{base}/nodeinfo/2.1"}
        for link in links:
            assert get_json(link["href"])["software"]["name"] == "fedinode"
        v2 = get_json(base + "/api/v2/instance")
        assert v2["configuration"]["urls"]["streaming"] == f"ws://127.0.0.1:{port}"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # its ids are stored: on another port the same data would name the old address, so
    # serve refuses it, naming the setting that serves it where it was
    moved = fedinode("serve", env={"FEDINODE_SERVER__PORT": str(free_port())}, cwd=tmp_path)
    assert moved.returncode == 2
    assert f'fedinode: instance.domain: this database\'s ids name {base}' in moved.stderr
    assert f'domain = "127.0.0.1:{port}" with [federation] scheme = "http"' in moved.stderr
