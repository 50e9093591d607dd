"""A serving process loads the crypto library when it first signs or verifies something,
not before: an idle instance, new or restarted, stays small (bench/all.py's idle RSS)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from ports import free_port

# Runs ``fedinode`` and says on the way out whether the crypto library was ever imported.
_WRAPPER = """
import atexit, runpy, sys
atexit.register(lambda: print("cryptography loaded:",
                              any(m.split(".")[0] == "cryptography" for m in sys.modules),
                              flush=True))
sys.argv = ["fedinode", *sys.argv[1:]]
runpy.run_module("fedinode.cli", run_name="__main__")
"""


class Served:
    def __init__(self, config: Path, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, "--config", str(config), "serve", "--workers", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited: {self.proc.communicate()[1]}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.1)
        raise AssertionError("serve never listened")

    def stop(self) -> str:
        """SIGTERM; what the process printed on its way out."""
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, err
        return out


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> tuple[Path, int]:
    port = free_port()
    path = tmp_path / "fedinode.toml"
    path.write_text(
        f'[instance]\ndomain = "127.0.0.1:{port}"\n'
        f"[server]\nport = {port}\naccess_log = false\n"
        f'[database]\nurl = "{database_url}"\n[federation]\nscheme = "http"\n'
        f'[media]\ndirectory = "{tmp_path / "media"}"\n'
    )
    return path, port


async def _get(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as http, http.get(
        url, headers={"Accept": "application/activity+json"}
    ) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_a_new_instance_serves_without_loading_crypto_until_it_signs(
    config: tuple[Path, int],
) -> None:
    path, port = config
    first = Served(path, port)  # a new database: the instance's keys are made now
    try:
        status, info = await _get(f"{first.base}/nodeinfo/2.1")
        assert status == 200, info
    finally:
        said = first.stop()
    assert "cryptography loaded: False" in said

    again = Served(path, port)  # the keys made on the first start are there and usable
    try:
        status, actor = await _get(f"{again.base}/actor")
        assert status == 200, actor
        public_key = actor["publicKey"]
        assert isinstance(public_key, dict)
        assert str(public_key["publicKeyPem"]).startswith("-----BEGIN PUBLIC KEY-----")
        methods = actor["assertionMethod"]
        assert isinstance(methods, list) and str(methods[0]["publicKeyMultibase"]).startswith("z")
    finally:
        said = again.stop()
    assert "cryptography loaded: True" in said  # serving the actor parsed its keys
