"""Fixtures for the public web pages: an app on each backend, with a chosen [instance]."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.append(str(Path(__file__).parents[1] / "api"))

from api_helpers import Api
from mail_rig import Mailbox, smtp_server

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


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on loopback that keeps the mails it receives."""
    with smtp_server() as box:
        yield box


@pytest.fixture
def join_site(aiohttp_client: Any, config: Config, mailbox: Mailbox) -> Site:
    """``await join_site("approval", mail=True, rules=...)``: an instance served over plain
    http (its cookies are not Secure) with that registrations mode, sending its mails to
    ``mailbox`` when ``mail``, and those other [instance] keys."""

    async def make(registrations: str, *, mail: bool = True, **instance: Any) -> Api:
        email = {"host": mailbox.host, "port": mailbox.port} if mail else {"host": ""}
        conf = dataclasses.replace(
            config,
            instance=dataclasses.replace(config.instance, registrations=registrations, **instance),
            federation=dataclasses.replace(config.federation, scheme="http"),
            email=dataclasses.replace(config.email, **email),
        )
        return Api(client=await aiohttp_client(create_app(conf)), config=conf)

    return make
