"""Shared fixtures: a store on each backend, named by role."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from storage.store import Store

POSTGRES_URL = os.environ.get("FEDINODE_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", "postgres"]

# Property tests judge their inputs, not the machine's speed: no deadline, and no health check
# for slow input generation (tests run several at a time, beside other work).
settings.register_profile(
    "fedinode", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("fedinode")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one process more than the cores (tests mostly wait on I/O), at most 4 so
    that PostgreSQL's 100 connections suffice for tests that run three instances at once."""
    return min(4, (os.cpu_count() or 1) + 1)


# Helper modules under tests/ (fixtures shared across test folders).
sys.path.append(str(Path(__file__).parent))
# The S3 server and the media-backend parameter (local, s3).
pytest_plugins = ["s3_rig"]


def _postgres_skip_reason() -> str | None:
    if not POSTGRES_URL and os.environ.get("FEDINODE_TEST_REQUIRE_POSTGRES"):
        raise RuntimeError("FEDINODE_TEST_REQUIRE_POSTGRES is set but FEDINODE_TEST_POSTGRES_URL is not")
    if not POSTGRES_URL:
        return "FEDINODE_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped (CI sets it)"
    return None


def backend_params() -> list[object]:
    reason = _postgres_skip_reason()
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.skipif(reason is not None, reason=reason or "")),
    ]


async def _new_pg_schema() -> tuple[str, str]:
    import asyncpg

    schema = "t_" + secrets.token_hex(6)
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    sep = "&" if "?" in POSTGRES_URL else "?"
    return schema, f"{POSTGRES_URL}{sep}search_path={schema}"


async def _drop_pg_schema(schema: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


DatabaseUrlFactory = Callable[[str], Awaitable[str]]


@pytest.fixture
async def database_url_factory(tmp_path: Path) -> AsyncIterator[DatabaseUrlFactory]:
    """Makes fresh, empty database URLs on either backend; cleans them up after the test."""
    schemas: list[str] = []

    async def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path}/db-{secrets.token_hex(4)}.sqlite3"
        reason = _postgres_skip_reason()
        if reason:
            pytest.skip(reason)
        schema, url = await _new_pg_schema()
        schemas.append(schema)
        return url

    yield make
    for schema in schemas:
        await _drop_pg_schema(schema)


@pytest.fixture(params=backend_params())
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, database_url_factory: DatabaseUrlFactory) -> str:
    return await database_url_factory(backend)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated, empty store; every storage test runs once on SQLite and once on PostgreSQL."""
    s = await Store.open(database_url)
    yield s
    await s.close()


# RSA-2048 key generation costs ~160 ms; tests make hundreds of accounts. They draw real keys
# from a small pool made once per session (each account still has its own key id).
_KEY_POOL: list[tuple[str, str]] = []
_key_turn = 0


def _pooled_keypair(bits: int = 2048) -> tuple[str, str]:
    global _key_turn
    from activitypub.keys import generate_keypair

    if len(_KEY_POOL) < 6:
        _KEY_POOL.append(generate_keypair(bits))
        return _KEY_POOL[-1]
    _key_turn += 1
    return _KEY_POOL[_key_turn % len(_KEY_POOL)]


async def _pooled_keypair_apart() -> tuple[str, str]:
    return _pooled_keypair()


@pytest.fixture(autouse=True)
def _fast_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    import activitypub.federation
    import fedinode.services.users

    monkeypatch.setattr(fedinode.services.users, "generate_keypair", _pooled_keypair)
    monkeypatch.setattr(activitypub.federation, "keypair_apart", _pooled_keypair_apart)
