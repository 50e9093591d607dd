"""Wiring the protocol layer into the application: S2S routes and background workers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence

from aiohttp import web

from activitypub import nodeinfo
from activitypub.federation import Federation
from activitypub.fetch import make_client_session
from activitypub.routes import add_routes
from activitypub.settings import FederationSettings
from fedinode import appkeys
from fedinode.services.federator import NO_FEDERATION, Federator
from fedinode.services.surface import SideEffects
from fedinode.version import FEDINODE_VERSION
from storage.models import Account, Report, Status


async def nodeinfo_discovery(request: web.Request) -> web.Response:
    settings: FederationSettings = request.app[FEDERATION_SETTINGS]
    return web.json_response(nodeinfo.discovery(settings))


async def nodeinfo_document(request: web.Request) -> web.Response:
    version = request.match_info["version"]
    if version not in nodeinfo.VERSIONS:
        raise web.HTTPNotFound()
    settings: FederationSettings = request.app[FEDERATION_SETTINGS]
    config = request.app[appkeys.CONFIG]
    store = request.app[appkeys.STORE]
    stats = await store.instance_stats()
    # The federation mode, how a new peer is met, and whose lists this instance follows.
    policy = request.app[appkeys.POLICY].describe()
    policy["first_contact"] = config.federation.first_contact
    policy["published_list"] = f"{settings.base_url}/policy/list.json"
    policy["subscriptions"] = [
        {"url": sub.url, "mode": sub.mode} for sub in await store.policy_lists.subscriptions()
    ]
    doc = nodeinfo.document(
        version,
        settings,
        stats,
        open_registrations=config.instance.registrations_enabled,
        policy=policy,
    )
    profile = f"http://nodeinfo.diaspora.software/ns/schema/{version}#"
    return web.json_response(
        doc, content_type="application/json", headers={"Content-Profile": profile}
    )


FEDERATION_SETTINGS = web.AppKey("fedinode.federation_settings", FederationSettings)


def federation_of(request: web.Request) -> Federation:
    return request.app[appkeys.FEDERATION]


def federator_of(app: web.Application) -> Federator:
    """What the services call to federate: the outbox once federation runs, else nothing."""
    return app.get(appkeys.FEDERATOR, NO_FEDERATION)


class OutboxFederator:
    """The services' ``Federator``: lookups through the resolver, changes into the outbox
    (delivery rows, sent by the delivery worker). Errors propagate to the caller."""

    def __init__(self, federation: Federation) -> None:
        self._federation = federation
        self._outbox = federation.outbox

    async def resolve_account(self, acct_or_url: str) -> Account | None:
        return await self._federation.resolve_account(acct_or_url)

    async def resolve_status(self, url: str) -> Status | None:
        return await self._federation.resolve_status(url)

    async def status_created(self, status: Status, author: Account | None = None) -> None:
        await self._outbox.status_created(status, author)

    async def status_updated(self, status: Status) -> None:
        await self._outbox.status_updated(status)

    async def status_deleted(self, status: Status, mentioned: Sequence[Account]) -> None:
        await self._outbox.status_deleted(status, mentioned)

    async def reblogged(self, reblog: Status) -> None:
        await self._outbox.reblogged(reblog)

    async def unreblogged(self, reblog: Status) -> None:
        await self._outbox.unreblogged(reblog)

    async def favourited(self, account: Account, status: Status, like_uri: str) -> None:
        await self._outbox.favourited(account, status, like_uri)

    async def unfavourited(self, account: Account, status: Status, like_uri: str | None) -> None:
        await self._outbox.unfavourited(account, status, like_uri)

    async def poll_voted(self, account: Account, status: Status, choices: Sequence[int]) -> None:
        await self._outbox.poll_voted(account, status, list(choices))

    async def poll_votes_changed(self, status: Status) -> None:
        await self._outbox.poll_votes_changed(status)

    async def followed(self, follower: Account, target: Account, follow_uri: str) -> None:
        await self._outbox.followed(follower, target, follow_uri)

    async def unfollowed(self, follower: Account, target: Account, follow_uri: str | None) -> None:
        await self._outbox.unfollowed(follower, target, follow_uri)

    async def follow_accepted(
        self, target: Account, follower: Account, follow_uri: str | None
    ) -> None:
        await self._outbox.follow_accepted(target, follower, follow_uri)

    async def follow_rejected(
        self, target: Account, follower: Account, follow_uri: str | None
    ) -> None:
        await self._outbox.follow_rejected(target, follower, follow_uri)

    async def blocked(self, account: Account, target: Account, block_uri: str) -> None:
        await self._outbox.blocked(account, target, block_uri)

    async def unblocked(self, account: Account, target: Account, block_uri: str | None) -> None:
        await self._outbox.unblocked(account, target, block_uri)

    async def profile_updated(self, account: Account) -> None:
        await self._outbox.profile_updated(account)

    async def reported(self, report: Report) -> None:
        # As Mastodon does, a forwarded report comes from the instance, not the reporter.
        await self._outbox.reported(report, reporter_is_instance=True)


def _federation_ctx(
    settings: FederationSettings, role: str, periodic: bool
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        session = make_client_session(
            "http" if settings.scheme == "http" else "https",
            settings.allow_private_addresses,
            settings.ca_file or None,
            user_agent=f"fedinode/{FEDINODE_VERSION} (+{settings.base_url}/)",
            timeout=settings.fetch_timeout_seconds,
        )
        store = app[appkeys.STORE]
        # The inbox worker's side effects are the services' own: one path for local and
        # remote events.
        config = app[appkeys.CONFIG]
        surface = SideEffects(store, cache_media=config.media.cache_remote, cards=config)
        federation = Federation(settings, store, app[appkeys.POLICY], session, surface)
        federator = OutboxFederator(federation)
        # The answers an incoming activity calls for (Accept, Reject, a poll's new counts,
        # a moved account's followers' Follows) go out through the use cases' Federator;
        # it exists only once the Federation does.
        surface.federator = federator
        try:
            await federation.start()
            app[appkeys.FEDERATION] = federation
            app[appkeys.FEDERATOR] = federator
            if role in ("all", "worker"):
                # SQLite: one process of a fleet applies the inbox (``start_workers``),
                # woken by the others' intake; on PostgreSQL every process applies its
                # own, and only a worker role hears of what the web role took.
                sqlite = store.db.dialect == "sqlite"
                federation.start_workers(
                    prune=periodic,
                    inbox=periodic or not sqlite,
                    notices=sqlite or role == "worker",
                )
            yield
        finally:
            await federation.stop()
            await session.close()

    return ctx


def setup_federation(
    app: web.Application, settings: FederationSettings, *, role: str, periodic: bool = True
) -> None:
    """S2S routes on web/all; the Federation object (and, on worker/all, its queue
    workers; ``periodic``: the queue pruning too) in a cleanup context after the store's."""
    app[FEDERATION_SETTINGS] = settings
    app.cleanup_ctx.append(_federation_ctx(settings, role, periodic))
    if role in ("all", "web"):
        app.router.add_get("/.well-known/nodeinfo", nodeinfo_discovery)
        app.router.add_get("/nodeinfo/{version}", nodeinfo_document)
        add_routes(app.router, federation_of)
