"""Redis for tests: the one on 127.0.0.1:6379 when it answers, else a redis-server of the
test run's own (Debian's redis-server package), else a skip that says which is missing."""

from __future__ import annotations

import atexit
import shutil
import socket
import subprocess
import tempfile
import time
from functools import cache

from ports import free_port


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_server(port: int, directory: str) -> subprocess.Popen[bytes]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
         "no", "--dir", directory],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if answers(port):
            return proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"redis-server did not answer on port {port}")


@cache
def redis_url() -> str | None:
    """A Redis URL for this test run, or None (no Redis on 6379 and no redis-server)."""
    if answers(6379):
        return "redis://127.0.0.1:6379/0"
    if shutil.which("redis-server") is None:
        return None
    port = free_port()
    proc = start_server(port, tempfile.mkdtemp(prefix="fedinode-test-redis-"))
    atexit.register(proc.kill)
    return f"redis://127.0.0.1:{port}/0"


SKIP_REASON = "no Redis on 127.0.0.1:6379 and no redis-server to start one (apt: redis-server)"
