"""``fedinode demo``: several instances in one process, federating over loopback.

Each instance is a complete application (its own SQLite database under the demo
directory, its own port); users follow each other through real ActivityPub traffic,
and the third instance suspends the first, so a newcomer sees both federation and a
domain block at work.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

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
from fedinode.services.passwords import hash_password
from fedinode.services.users import create_local_user
from policy.settings import settings_from_mapping
from storage.ids import new_id
from storage.models import Account
from storage.statuses import NewStatus

USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan")


@dataclass
class DemoInstance:
    name: str
    port: int
    app: web.Application
    runner: web.AppRunner
    username: str
    password: str
    account: Account | None = None

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"


def demo_config(directory: Path, name: str, port: int, blocked: list[str]) -> Config:
    policy = settings_from_mapping(
        "open",
        {
            "domain_blocks": [
                {"domain": d, "severity": "suspend", "public_comment": "demo: a domain block"}
                for d in blocked
            ]
        },
    )
    return Config(
        instance=InstanceConfig(
            domain=f"127.0.0.1:{port}", title=f"fedinode demo {name}", registrations="open"
        ),
        server=ServerConfig(host="127.0.0.1", port=port, access_log=False),
        database=DatabaseConfig(url=f"sqlite:///{directory / name / 'fedinode.sqlite3'}"),
        federation=FederationConfig(scheme="http", allow_private_addresses=True),
        media=MediaConfig(directory=str(directory / name / "media")),
        policy=policy,
    )


async def _ensure_user(instance: DemoInstance) -> Account:
    store = instance.app[appkeys.STORE]
    urls = instance.app[appkeys.URLS]
    existing = await store.accounts.by_handle(instance.username, "")
    if existing is not None:
        user = await store.users.by_account(existing.id)
        if user is not None:
            await store.users.update(user.id, password_hash=hash_password(instance.password))
        return existing
    _, account = await create_local_user(
        store,
        urls,
        username=instance.username,
        email=f"{instance.username}@{instance.name}.demo",
        password=instance.password,
        display_name=instance.username.title(),
        admin=True,
    )
    return account


async def _follow(source: DemoInstance, target: DemoInstance) -> str:
    """``source``'s user follows ``target``'s user through federation; a status line."""
    assert source.account is not None
    fed = source.app[appkeys.FEDERATION]
    store = source.app[appkeys.STORE]
    handle = f"{target.username}@{target.domain}"
    remote = await fed.resolve_account(handle)
    if remote is None:
        return f"  {source.username} → {handle}: refused (domain block)"
    if await store.relationships.get_follow(source.account.id, remote.id) is not None:
        return f"  {source.username} → {handle}: already following"
    uri = f"{source.account.uri}#follows/{new_id()}"
    await store.relationships.request(source.account.id, remote.id, uri=uri)
    await fed.outbox.followed(source.account, remote, uri)
    return f"  {source.username} → {handle}: follow sent"


async def _hello(instance: DemoInstance) -> None:
    assert instance.account is not None
    store = instance.app[appkeys.STORE]
    if instance.account.statuses_count:
        return
    urls = instance.app[appkeys.URLS]
    text = f"Hello from {instance.username} on {instance.domain}!"
    status = await store.statuses.create(
        NewStatus(
            account_id=instance.account.id,
            local=True,
            content=f"<p>{text}</p>",
            text=text,
            visibility="public",
            language="en",
        ),
        uri_template=urls.status_template(instance.username),
    )
    await instance.app[appkeys.FEDERATION].outbox.status_created(status)


async def run_demo(directory: str, *, base_port: int = 8081, count: int = 3) -> None:
    """Start ``count`` instances, wire them up, print how to use them, serve until Ctrl-C."""
    count = max(2, min(count, len(USERS)))
    root = Path.cwd() / directory if not directory.startswith("/") else Path(directory)
    instances: list[DemoInstance] = []
    try:
        for index in range(count):
            name = f"node{index + 1}"
            port = base_port + index
            # The third instance suspends the first: one visible domain block.
            blocked = [f"127.0.0.1:{base_port}"] if index == 2 else []
            app = create_app(demo_config(root, name, port, blocked))
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            instances.append(
                DemoInstance(name, port, app, runner, USERS[index], secrets.token_urlsafe(9))
            )
        for instance in instances:
            instance.account = await _ensure_user(instance)

        lines = ["", "Follows (through ActivityPub):"]
        for source in instances:
            for target in instances:
                if source is not target:
                    lines.append(await _follow(source, target))
        # Let follows be accepted before the first posts go out.
        await asyncio.sleep(1.5)
        for instance in instances:
            await _hello(instance)

        print(f"fedinode demo: {count} instances, data under {root}")
        for instance in instances:
            print(
                f"  {instance.name}: http://{instance.domain}/  "
                f"user @{instance.username}@{instance.domain}  password {instance.password}"
            )
        if count >= 3:
            print(f"  domain block: {instances[2].name} suspends {instances[0].name} "
                  f"({instances[0].domain}); nothing flows between them")  # fmt: skip
        print("\n".join(lines))
        print("\nLog in with any Mastodon client (server http://127.0.0.1:PORT), or read the")
        print("ActivityPub side: curl -H 'Accept: application/activity+json' "
              f"http://{instances[0].domain}/users/{instances[0].username}")  # fmt: skip
        print("Ctrl-C stops the demo.", flush=True)
        await asyncio.Event().wait()
    finally:
        for instance in reversed(instances):
            with contextlib.suppress(Exception):
                await instance.runner.cleanup()
