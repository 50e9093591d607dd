"""create_app(config) → web.Application: resources as cleanup contexts, routes, middlewares."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from activitypub.policy_gate import PolicyGate
from activitypub.settings import FederationSettings
from activitypub.urls import Urls
from fedinode import appkeys
from fedinode.config import Config
from fedinode.middlewares import error_middleware, request_id_middleware
from fedinode.ratelimit import rate_limit_middlewares
from fedinode.version import FEDINODE_VERSION
from policy.text import TAG_KEY_VERSION, tag_key
from storage.migrate import autovacuum_off
from storage.store import Store

log = logging.getLogger("fedinode")


def federation_settings(config: Config) -> FederationSettings:
    """The protocol layer's settings: ``[federation]`` keys carried over by name (the layers
    keep separate types; activitypub cannot import fedinode's config), plus a few others."""
    f = config.federation
    carried = {
        field.name: getattr(f, field.name)
        for field in dataclasses.fields(FederationSettings)
        if hasattr(f, field.name)
    }
    carried["scheme"] = config.scheme
    return FederationSettings(
        **carried,
        domain=config.domain,
        title=config.instance.title,
        software_version=FEDINODE_VERSION,
        max_inbox_bytes=config.server.max_body_bytes,
    )


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[appkeys.CONFIG]
    store = await Store.open(
        config.database.url,
        events_url=config.events.url,
        events_prefix=config.events_prefix,
        pool_size=config.database.pool_size,
    )
    queue = config.queue
    try:
        # Ids this process makes carry its slot; the rows it leases carry its name.
        claim = await store.claim_process_slot(worker_name=queue.worker_name)
    except BaseException:
        await store.close()
        raise
    store.queues.configure_leases(
        inbox_lease_ms=queue.inbox_lease_seconds * 1000,
        delivery_lease_ms=queue.delivery_lease_seconds * 1000,
    )
    log.info("id slot %d (%s); queue leases held as %s", claim.slot, claim.where,
             store.queues.owner.name)  # fmt: skip
    if await autovacuum_off(store.db):
        log.warning(
            "PostgreSQL's autovacuum is off: turn it on (or VACUUM ANALYZE regularly), or"
            " tables bloat and timelines slow down as they grow"
        )
    app[appkeys.STORE] = store
    await store.tags.rekey(tag_key, TAG_KEY_VERSION)
    gate = PolicyGate(config.policy, store)
    await gate.refresh()
    app[appkeys.POLICY] = gate
    yield
    await store.close()


async def _policy_ctx(app: web.Application) -> AsyncIterator[None]:
    """Follow other processes' domain-rule changes; prune old decisions (not on ``web``)."""
    import asyncio
    import contextlib

    gate = app[appkeys.POLICY]
    prune = app[appkeys.ROLE] != "web" and app[appkeys.PERIODIC]
    task = asyncio.create_task(gate.maintain(prune=prune))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _token_cache_ctx(app: web.Application) -> AsyncIterator[None]:
    """Let bearer lookups answer from this process's cache while it hears every change
    (``storage.token_cache``): the API's one round trip per request before its work."""
    import asyncio
    import contextlib

    task = asyncio.create_task(app[appkeys.STORE].oauth.follow_changes())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _poll_ctx(app: web.Application) -> AsyncIterator[None]:
    """Announce ended polls (worker/all): one sweeper task, cancelled at shutdown."""
    import asyncio
    import contextlib

    from fedinode.federation import federator_of
    from fedinode.services.context import Ctx
    from fedinode.services.polls import sweep_forever

    ctx = Ctx(
        store=app[appkeys.STORE],
        config=app[appkeys.CONFIG],
        urls=app[appkeys.URLS],
        federation=federator_of(app),
    )
    task = asyncio.create_task(sweep_forever(ctx))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _scheduled_ctx(app: web.Application) -> AsyncIterator[None]:
    """Post scheduled statuses when due (worker/all; rows are claimed, so every worker may)."""
    import asyncio
    import contextlib

    from fedinode.federation import federator_of
    from fedinode.services.context import Ctx
    from fedinode.services.scheduled_statuses import publish_forever

    ctx = Ctx(
        store=app[appkeys.STORE],
        config=app[appkeys.CONFIG],
        urls=app[appkeys.URLS],
        federation=federator_of(app),
    )
    task = asyncio.create_task(publish_forever(ctx))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def create_app(config: Config, *, role: str = "all", periodic: bool = True) -> web.Application:
    """The whole instance: S2S and client API on ``web``/``all``, queue workers on ``worker``/``all``.

    ``periodic``: this process also runs the jobs that one process of a fleet runs (pruning,
    announcing ended polls); the other processes of ``serve --workers N`` pass False."""
    # With no [instance] domain, every URL names where this process is served (http,
    # [server] host:port); the app and everything it hands the config to see that domain.
    config = config.resolved()
    app = web.Application(
        middlewares=[request_id_middleware, error_middleware, *rate_limit_middlewares(config)],
        client_max_size=max(
            config.server.max_body_bytes,
            config.server.max_media_bytes,
            config.media.video_max_bytes,
        ),
    )
    app[appkeys.CONFIG] = config
    app[appkeys.URLS] = Urls(config.base_url)
    app[appkeys.ROLE] = role
    app[appkeys.PERIODIC] = periodic
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_policy_ctx)
    if role in ("all", "web"):
        app.cleanup_ctx.append(_token_cache_ctx)
    from fedinode.push import push_ctx

    app.cleanup_ctx.append(push_ctx)
    from fedinode.mail import mail_ctx

    app.cleanup_ctx.append(mail_ctx)
    from fedinode.remote_media import media_cache_ctx

    app.cleanup_ctx.append(media_cache_ctx)
    from fedinode.media_worker import media_processing_ctx

    app.cleanup_ctx.append(media_processing_ctx)

    from fedinode.preview_cards import card_worker_ctx

    app.cleanup_ctx.append(card_worker_ctx)

    from fedinode.federation import setup_federation

    setup_federation(app, federation_settings(config), role=role, periodic=periodic)

    from fedinode.api.routes import add_routes

    add_routes(app)
    from fedinode.health import setup_health
    from fedinode.metrics import setup_metrics

    setup_health(app)
    setup_metrics(app, config)
    from fedinode.api.streaming import hub_ctx

    app.cleanup_ctx.append(hub_ctx)
    from fedinode.policy_sync import policy_sync_ctx

    app.cleanup_ctx.append(policy_sync_ctx)  # after federation's: it fetches through it
    if role in ("all", "worker") and periodic:
        from fedinode.quarantine import quarantine_ctx

        app.cleanup_ctx.append(quarantine_ctx)
        app.cleanup_ctx.append(_poll_ctx)  # after federation's: it may send the final tallies
        from fedinode.web.sessions import sweep_ctx

        app.cleanup_ctx.append(sweep_ctx)  # expired web sessions and e-mail tokens
        if config.rate_limits.enabled and config.rate_limits.storage == "database":
            from fedinode.ratelimit import counters_sweep_ctx

            app.cleanup_ctx.append(counters_sweep_ctx)
    if role in ("all", "worker"):
        app.cleanup_ctx.append(_scheduled_ctx)  # after federation's: a posted status federates
    return app
