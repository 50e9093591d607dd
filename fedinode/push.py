"""Web Push assembly: the VAPID key (every role) and the push worker (worker/all roles)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from activitypub.fetch import make_client_session
from activitypub.netguard import Scheme
from fedinode import appkeys
from fedinode.config import Config
from fedinode.services.push import PushSender, SenderSettings
from fedinode.services.webpush import VapidKey
from fedinode.version import FEDINODE_VERSION

# The push worker of each running application, for tests and operators ("send now").
SENDER = web.AppKey("fedinode.push_sender", PushSender)


def sender_settings(config: Config) -> SenderSettings:
    push = config.push
    contact = push.contact or (
        f"mailto:{config.instance.contact_email}" if config.instance.contact_email else ""
    )
    scheme: Scheme = "http" if config.scheme == "http" else "https"
    return SenderSettings(
        subject=contact or config.base_url,
        scheme=scheme,
        allow_private=config.federation.allow_private_addresses,
        private_hosts=frozenset(h.lower().rstrip(".") for h in push.private_hosts),
        timeout_seconds=push.timeout_seconds,
        max_attempts=push.max_attempts,
        ttl_seconds=push.ttl_seconds,
        base_url=config.base_url,
    )


async def push_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load (or make, once for the instance) the VAPID key; run the worker where one runs."""
    store = app[appkeys.STORE]
    secret = await store.push.vapid_private_key(VapidKey.generate_secret)
    vapid = VapidKey.from_secret(secret)
    app[appkeys.VAPID] = vapid
    if app[appkeys.ROLE] not in ("all", "worker"):
        yield
        return
    config = app[appkeys.CONFIG]
    settings = sender_settings(config)

    def session(allow_private: bool) -> aiohttp.ClientSession:
        return make_client_session(
            settings.scheme,
            allow_private=allow_private,
            ca_file=config.federation.ca_file or None,
            user_agent=f"fedinode/{FEDINODE_VERSION} (+{config.base_url}/)",
            timeout=settings.timeout_seconds,
        )

    public = session(settings.allow_private)
    # Private addresses only for the named hosts: a second session whose connector allows
    # them, used for nothing else.
    private = session(True) if settings.private_hosts and not settings.allow_private else None
    sender = PushSender(store, vapid, public, settings, private_session=private)
    app[SENDER] = sender
    tasks = [asyncio.create_task(sender.run()), asyncio.create_task(sender.listen())]
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await public.close()
    if private is not None:
        await private.close()
