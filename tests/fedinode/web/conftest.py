"""Fixtures for the public web pages: an app on each backend, with a chosen [instance]."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.append(str(Path(__file__).parents[1] / "api"))

from api_helpers import Api

from fedinode.app import create_app
from fedinode.config import Config

Site = Callable[..., Awaitable[Api]]


@pytest.fixture
def site(aiohttp_client: Any, config: Config) -> Site:
    """``await site(title=..., rules=(...))``: a running instance with those [instance] keys
    (and ``federation={...}`` for [federation] ones)."""

    async def make(*, federation: dict[str, Any] | None = None, **instance: Any) -> Api:
        conf = dataclasses.replace(
            config,
            instance=dataclasses.replace(config.instance, **instance),
            federation=dataclasses.replace(config.federation, **(federation or {})),
        )
        return Api(client=await aiohttp_client(create_app(conf)), config=conf)

    return make
