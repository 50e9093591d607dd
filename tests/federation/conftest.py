"""Real instances on loopback: each one a full application (store, S2S routes, workers)
served by aiohttp on 127.0.0.1 with an ephemeral port, federating over plain http."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from ports import free_port

from activitypub.federation import Federation
from activitypub.urls import Urls
from fedinode import appkeys
from fedinode.app import create_app
from fedinode.config import (
    Config,
    DatabaseConfig,
    FederationConfig,
    InstanceConfig,
    MediaConfig,
    ServerConfig,
)
from fedinode.services.users import create_local_user
from policy.settings import PolicySettings, settings_from_mapping
from storage.ids import new_id
from storage.models import Account, Status
from storage.statuses import NewStatus
from storage.store import Store

T = TypeVar("T")


@dataclass
class Instance:
    """One running fedinode; ``restart`` re-creates the app on the same database."""

    name: str
    port: int
    database_url: str
    directory: Path
    policy: PolicySettings = field(default_factory=lambda: settings_from_mapping("open", {}))
    authorized_fetch: bool = False
    # Further [federation] keys, e.g. {"first_contact": "quarantine"}.
    federation: dict[str, Any] = field(default_factory=dict)
    # Further [media] keys, e.g. {"backend": "s3", "s3": S3Config(...)}.
    media: dict[str, Any] = field(default_factory=dict)
    runner: web.AppRunner | None = None
    app: web.Application | None = None

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def config(self) -> Config:
        return Config(
            instance=InstanceConfig(domain=self.domain, title=self.name),
            server=ServerConfig(host="127.0.0.1", port=self.port, access_log=False),
            database=DatabaseConfig(url=self.database_url),
            federation=FederationConfig(
                scheme="http",
                allow_private_addresses=True,
                fetch_timeout_seconds=5.0,
                authorized_fetch=self.authorized_fetch,
                **self.federation,
            ),
            media=MediaConfig(directory=str(self.directory / "media"), **self.media),
            policy=self.policy,
        )

    @property
    def store(self) -> Store:
        assert self.app is not None
        return self.app[appkeys.STORE]

    @property
    def fed(self) -> Federation:
        assert self.app is not None
        return self.app[appkeys.FEDERATION]

    @property
    def urls(self) -> Urls:
        return Urls(f"http://{self.domain}")

    async def start(self) -> None:
        self.app = create_app(self.config)
        self.runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self.runner.setup()
        # Tests must not wait 30 s for a retry.
        self.fed.delivery.retry_base_ms = 200
        self.fed.delivery.poll_interval = 0.1
        self.fed.processor.retry_base_ms = 200
        self.fed.processor.poll_interval = 0.1
        site = web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        self.runner = None
        self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def user(self, username: str, *, locked: bool = False, admin: bool = False) -> Account:
        _, account = await create_local_user(
            self.store,
            self.urls,
            username=username,
            email=f"{username}@{self.name}.test",
            password="correct horse battery",
            locked=locked,
            admin=admin,
        )
        return account

    # -- what the client API's services do, reduced to storage + outbox ------------------

    async def follow(self, follower: Account, handle: str) -> Account:
        target = await self.fed.resolve_account(handle)
        assert target is not None, f"{handle} did not resolve"
        if target.local:
            await self.store.relationships.follow(follower.id, target.id)
            return target
        uri = f"{follower.uri}#follows/{new_id()}"
        await self.store.relationships.request(follower.id, target.id, uri=uri)
        await self.fed.outbox.followed(follower, target, uri)
        return target

    async def unfollow(self, follower: Account, target: Account) -> None:
        pending = await self.store.relationships.delete_request(follower.id, target.id)
        removed = await self.store.relationships.unfollow(follower.id, target.id)
        undone = removed or pending
        await self.fed.outbox.unfollowed(follower, target, undone.uri if undone else None)

    async def post(
        self,
        author: Account,
        text: str,
        *,
        visibility: str = "public",
        mentions: tuple[Account, ...] = (),
        in_reply_to: Status | None = None,
        tags: tuple[str, ...] = (),
    ) -> Status:
        status = await self.store.statuses.create(
            NewStatus(
                account_id=author.id,
                local=True,
                content=f"<p>{text}</p>",
                text=text,
                visibility=visibility,
                mentions=[m.id for m in mentions],
                tags=tags,
                in_reply_to_id=in_reply_to.id if in_reply_to else None,
                in_reply_to_uri=in_reply_to.uri if in_reply_to else None,
                in_reply_to_account_id=in_reply_to.account_id if in_reply_to else None,
                language="en",
            ),
            uri_template=self.urls.status_template(author.username),
        )
        await self.fed.outbox.status_created(status)
        return status

    async def account(self, handle_or_uri: str) -> Account | None:
        if handle_or_uri.startswith("http"):
            return await self.store.accounts.by_uri(handle_or_uri)
        user, _, host = handle_or_uri.lstrip("@").partition("@")
        return await self.store.accounts.by_handle(user, host)


async def eventually(
    probe: Callable[[], Awaitable[T]], *, within: float = 10.0, what: str = "condition"
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


InstanceFactory = Callable[..., Awaitable[Instance]]


@pytest.fixture
async def instances(
    tmp_path: Path, database_url_factory: Callable[[str], Awaitable[str]]
) -> AsyncIterator[InstanceFactory]:
    """Start instances on demand: ``await instances("a", backend="sqlite")``."""
    started: list[Instance] = []

    async def make(
        name: str,
        *,
        backend: str = "sqlite",
        policy: dict[str, Any] | None = None,
        federation: dict[str, Any] | None = None,
        media: dict[str, Any] | None = None,
    ) -> Instance:
        url = await database_url_factory(backend)
        instance = Instance(
            name,
            free_port(),
            url,
            tmp_path / name,
            federation=federation or {},
            media=media or {},
        )
        if policy is not None:
            instance = replace(instance, policy=settings_from_mapping("open", policy))
        await instance.start()
        started.append(instance)
        return instance

    yield make
    for instance in reversed(started):
        await instance.stop()
