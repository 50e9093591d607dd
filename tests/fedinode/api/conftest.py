"""Client API fixtures: a running app on each backend (see api_helpers for the helpers)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from api_helpers import Api

from fedinode.app import create_app
from fedinode.config import Config


@pytest.fixture
async def api(aiohttp_client: Any, config: Config) -> Api:
    client: TestClient[Any, Any] = await aiohttp_client(create_app(config))
    return Api(client=client, config=config)
