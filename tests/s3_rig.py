"""A real S3 protocol server on loopback (moto's standalone server), one bucket per test.

``media_backend`` parametrizes media tests by backend: ``local`` (a folder) and ``s3``.
Use ``media_config(config, tmp_path)`` to point a Config at the chosen one, and
``stored_files(config)`` to see what the backend holds, whichever it is.
"""

from __future__ import annotations

import dataclasses
import secrets
import socket
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fedinode.config import Config, S3Config
from fedinode.services.media_files import media_files

MEDIA_BACKENDS = ["local", "s3"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server in a thread of the test process, for the whole session."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def make_bucket(endpoint: str) -> S3Config:
    name = "fedinode-" + secrets.token_hex(6)
    request = urllib.request.Request(f"{endpoint}/{name}", method="PUT")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
    return S3Config(
        endpoint=endpoint, bucket=name, region="us-east-1", access_key="test", secret_key="test"
    )


MediaOn = Callable[[Config, Path], Config]


@pytest.fixture(params=MEDIA_BACKENDS)
def media_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def media_config(media_backend: str, request: pytest.FixtureRequest) -> MediaOn:
    """Points a Config at a fresh media folder, or at a fresh bucket on the S3 server."""
    s3 = make_bucket(request.getfixturevalue("s3_endpoint")) if media_backend == "s3" else None

    def on(config: Config, tmp_path: Path) -> Config:
        media = dataclasses.replace(config.media, directory=str(tmp_path / "media"))
        if s3 is not None:
            media = dataclasses.replace(media, backend="s3", s3=s3)
        return dataclasses.replace(config, media=media)

    return on


def stored_files(config: Config) -> list[str]:
    """Every media file the configured backend holds (relative paths, sorted)."""
    return sorted(f.path for f in media_files(config).walk())
