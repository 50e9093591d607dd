"""Fixtures for application tests: a Config on a fresh database of each backend."""

from __future__ import annotations

import dataclasses

import pytest

from fedinode.config import Config, load_config


def make_config(database_url: str, *, domain: str = "local.test", scheme: str = "https", **federation: object) -> Config:
    base = load_config(None, environ={})
    return dataclasses.replace(
        base,
        instance=dataclasses.replace(base.instance, domain=domain),
        database=dataclasses.replace(base.database, url=database_url),
        federation=dataclasses.replace(base.federation, scheme=scheme, **federation),  # type: ignore[arg-type]
    )


@pytest.fixture
def config(database_url: str) -> Config:
    return make_config(database_url)
