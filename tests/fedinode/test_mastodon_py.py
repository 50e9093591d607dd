"""Acceptance: the real Mastodon.py library drives a running instance over HTTP.

The instance runs in this event loop (aiohttp AppRunner on an ephemeral loopback port);
Mastodon.py is synchronous, so it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from activitypub.urls import Urls
from fedinode import appkeys
from fedinode.app import create_app
from fedinode.config import Config, load_config
from fedinode.services.users import create_local_user

mastodon = pytest.importorskip("mastodon")
PASSWORD = "acceptance-password"


def _config(database_url: str, port: int) -> Config:
    base = load_config(None, environ={})
    return dataclasses.replace(
        base,
        instance=dataclasses.replace(base.instance, domain=f"127.0.0.1:{port}"),
        database=dataclasses.replace(base.database, url=database_url),
        federation=dataclasses.replace(base.federation, scheme="http"),
    )


@pytest.fixture
async def instance(database_url: str) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = _config(database_url, port)
    app = create_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    store = app[appkeys.STORE]
    for name in ("alice", "bob"):
        await create_local_user(
            store,
            Urls(config.base_url),
            username=name,
            email=f"{name}@example.org",
            password=PASSWORD,
        )
    try:
        yield config.base_url
    finally:
        await runner.cleanup()


def _session(base: str, login: str) -> Any:
    client_id, client_secret = mastodon.Mastodon.create_app(
        "acceptance", api_base_url=base, scopes=["read", "write", "follow", "push"]
    )
    api = mastodon.Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    api.log_in(login, PASSWORD, scopes=["read", "write", "follow", "push"], allow_http=True)
    return api


def _scenario(base: str) -> None:
    alice = _session(base, "alice")
    bob = _session(base, "bob@example.org")  # email works as the login too
    me = alice.account_verify_credentials()
    assert me.username == "alice"
    assert bob.account_verify_credentials().acct == "bob"

    rel = bob.account_follow(me.id)
    assert rel.following is True
    assert [a.acct for a in alice.account_followers(me.id)] == ["bob"]

    posted = [alice.status_post(f"post {i} #acceptance") for i in range(7)]
    reply = bob.status_post("@alice nice", in_reply_to_id=posted[-1].id)
    assert reply.in_reply_to_id == posted[-1].id
    ctx = alice.status_context(posted[-1].id)
    assert [s.id for s in ctx.descendants] == [reply.id]

    # Paging the home timeline two at a time: everything, once, newest first.
    page = bob.timeline_home(limit=2)
    seen = []
    while page:
        seen.extend(s.id for s in page)
        page = bob.fetch_next(page)
    expected = [reply.id] + [s.id for s in reversed(posted)]
    assert seen == expected

    # Notifications: bob followed alice and mentioned her.
    types = [n.type for n in alice.notifications()]
    assert types == ["mention", "follow"]

    fav = bob.status_favourite(posted[0].id)
    assert fav.favourited is True
    assert alice.notifications(types=["favourite"])[0].account.acct == "bob"

    deleted = alice.status_delete(posted[1].id)
    assert deleted.text == "post 1 #acceptance"
    ids_after = [s.id for s in bob.timeline_home(limit=40)]
    assert posted[1].id not in ids_after and len(ids_after) == len(expected) - 1
    tagged = alice.timeline_hashtag("acceptance", limit=40)
    assert len(tagged) == 6

    bob.account_unfollow(me.id)
    assert [s.id for s in bob.timeline_home(limit=40)] == [reply.id]


async def test_mastodon_py_end_to_end(instance: str) -> None:
    await asyncio.to_thread(_scenario, instance)
