"""Web Push: subscriptions (one per access token), the pushes a notification queues, and the
worker that encrypts, signs and sends them.

A notification queues one row per matching subscription (``queue_pushes``, called from the
one notification path in ``fedinode.services.surface``); the worker (``PushSender``) claims
rows, so a slow or dead push service never holds up the API, and a restart loses nothing.
Push services are outbound requests like any other: the SSRF guard checks each endpoint
(scheme, literal addresses, and every resolved address), with a time and a size cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp
import orjson
from yarl import URL

from activitypub import periodic
from activitypub.errors import RefusedAddress
from activitypub.html import html_to_text
from activitypub.netguard import Scheme, check_url
from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services import push_text, webpush
from storage import events
from storage.ids import now_ms
from storage.models import Notification
from storage.push import NewPushSubscription, PushDelivery, PushSubscription
from storage.store import Store

log = logging.getLogger("fedinode.push")

# Every type Mastodon lets a subscription ask for (``data[alerts][…]``).
ALERTS = (
    "mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
    "admin.sign_up", "admin.report", "quote", "quoted_update",
)  # fmt: skip
ADMIN_ALERTS = frozenset({"admin.sign_up", "admin.report"})
POLICIES = ("all", "followed", "follower", "none")
MAX_ENDPOINT_CHARS = 2048
_RESPONSE_DRAIN_BYTES = 65_536
_BATCH = 16
_PRUNE_EVERY_SECONDS = 3600.0
PRUNE_JOB = "push_prune"  # its lease row (activitypub.periodic)
_KEEP_FINISHED_MS = 7 * 86_400_000


# -- subscriptions ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    """``POST /api/v1/push/subscription``, parsed."""

    endpoint: str
    p256dh: str
    auth: str
    standard: bool
    alerts: Mapping[str, bool]
    policy: str


def effective_alerts(asked: Mapping[str, bool], *, admin: bool) -> dict[str, bool]:
    """Every alert, on where asked; the admin alerts only for an admin (as Mastodon)."""
    return {a: bool(asked.get(a)) and (admin or a not in ADMIN_ALERTS) for a in ALERTS}


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise ValidationFailed(f"Validation failed: policy must be one of {', '.join(POLICIES)}")
    return policy


def private_allowed(endpoint: str, allow_private: bool, private_hosts: frozenset[str]) -> bool:
    """Whether this endpoint may be on a private address: everywhere when the instance may
    reach private peers, else only on the push hosts the admin named (``[push]
    private_hosts``: a UnifiedPush server on the home network)."""
    if allow_private:
        return True
    try:
        host = (URL(endpoint).host or "").lower().rstrip(".")
    except (ValueError, TypeError):
        return False
    return host in private_hosts


def check_endpoint(
    endpoint: str,
    *,
    scheme: Scheme,
    allow_private: bool,
    private_hosts: frozenset[str] = frozenset(),
) -> str:
    """A push endpoint we may send to; 422 otherwise (checked again, after DNS, on send)."""
    if not endpoint or len(endpoint) > MAX_ENDPOINT_CHARS:
        raise ValidationFailed("Validation failed: Endpoint is invalid")
    try:
        check_url(endpoint, scheme, private_allowed(endpoint, allow_private, private_hosts))
    except RefusedAddress as exc:
        raise ValidationFailed(f"Validation failed: Endpoint is not allowed ({exc})") from None
    return endpoint


async def subscribe(
    store: Store,
    request: SubscriptionRequest,
    *,
    token_id: int,
    access_token: str,
    account_id: int,
    admin: bool,
    scheme: Scheme,
    allow_private: bool,
    private_hosts: frozenset[str] = frozenset(),
) -> PushSubscription:
    """Create the token's subscription (replacing the one it had)."""
    endpoint = check_endpoint(
        request.endpoint, scheme=scheme, allow_private=allow_private, private_hosts=private_hosts
    )
    try:
        webpush.subscriber_public_key(request.p256dh)
        webpush.auth_secret(request.auth)
    except webpush.BadSubscriptionKey as exc:
        raise ValidationFailed(f"Validation failed: {exc}") from None
    return await store.push.subscribe(
        NewPushSubscription(
            token_id=token_id,
            account_id=account_id,
            endpoint=endpoint,
            p256dh=request.p256dh,
            auth=request.auth,
            standard=request.standard,
            alerts=effective_alerts(request.alerts, admin=admin),
            policy=check_policy(request.policy),
            access_token=access_token,
        )
    )


async def current(store: Store, token_id: int) -> PushSubscription:
    found = await store.push.for_token(token_id)
    if found is None:
        raise NotFoundError()
    return found


async def update(
    store: Store,
    token_id: int,
    *,
    alerts: Mapping[str, bool] | None,
    policy: str | None,
    admin: bool,
) -> PushSubscription:
    """Change what a subscription hears. Alerts sent replace the set (as Mastodon: one not
    named is off); none sent keep it; a policy not sent is kept."""
    found = await current(store, token_id)
    new_alerts = found.alerts if alerts is None else effective_alerts(alerts, admin=admin)
    new_policy = found.policy if policy is None else check_policy(policy)
    updated = await store.push.update(token_id, alerts=new_alerts, policy=new_policy)
    if updated is None:
        raise NotFoundError()
    return updated


async def unsubscribe(store: Store, token_id: int) -> None:
    await store.push.unsubscribe(token_id)


# -- queueing ---------------------------------------------------------------------------


async def _policy_allows(store: Store, policy: str, n: Notification) -> bool:
    if policy == "all":
        return True
    if policy == "followed":  # from accounts the recipient follows
        return await store.relationships.get_follow(n.account_id, n.from_account_id) is not None
    if policy == "follower":  # from accounts that follow the recipient
        return await store.relationships.get_follow(n.from_account_id, n.account_id) is not None
    return False


async def queue_pushes(store: Store, n: Notification) -> int:
    """Queue a push of ``n`` to each of its recipient's subscriptions that asked for its
    type under a policy it passes; the count queued."""
    chosen = [
        s.id
        for s in await store.push.live_for_account(n.account_id)
        if s.alerts.get(n.type) and await _policy_allows(store, s.policy, n)
    ]
    return await store.push.enqueue(n.id, chosen) if chosen else 0


# -- sending ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SenderSettings:
    subject: str  # VAPID ``sub``: mailto: or https URL of whom a push service may contact
    scheme: Scheme = "https"
    allow_private: bool = False
    private_hosts: frozenset[str] = frozenset()
    timeout_seconds: float = 10.0
    max_attempts: int = 8
    ttl_seconds: int = webpush.DEFAULT_TTL_SECONDS
    base_url: str = ""
    poll_seconds: float = 5.0


def backoff_ms(attempts: int) -> int:
    """Wait before try ``attempts + 1``: 30 s doubling, capped at 6 h, with jitter."""
    base = min(30_000 * 2**attempts, 6 * 3_600_000)
    return int(base * random.uniform(0.8, 1.2))


class PushSender:
    """Claims queued pushes and sends them; one per process with the worker role."""

    def __init__(
        self,
        store: Store,
        vapid: webpush.VapidKey,
        session: aiohttp.ClientSession,
        settings: SenderSettings,
        *,
        private_session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.store = store
        self.vapid = vapid
        self.session = session
        # For the push hosts allowed on private addresses only (its connector allows them).
        self.private_session = private_session
        self.settings = settings
        self.wake = asyncio.Event()

    async def build_payload(self, sub: PushSubscription, n: Notification) -> bytes | None:
        """The JSON a push carries, or None when there is nothing left to tell."""
        store = self.store
        sender = await store.accounts.get(n.from_account_id)
        if sender is None:
            return None
        user = await store.users.by_account(sub.account_id)
        body = html_to_text(sender.note)
        if n.status_id is not None:
            status = await store.statuses.get(n.status_id)
            if status is None:
                return None
            body = status.spoiler_text or html_to_text(status.content)
        icon = sender.avatar_url or f"{self.settings.base_url}/static/avatar.png"
        payload = push_text.payload(
            access_token=sub.access_token,
            locale=user.locale if user is not None else "en",
            notification_id=n.id,
            type_=n.type,
            sender_name=sender.display_name or sender.username,
            icon=icon,
            body=body,
        )
        encoded = orjson.dumps(payload)
        if len(encoded) > push_text.MAX_PAYLOAD_BYTES:  # a monstrous avatar URL
            payload["icon"] = ""
            encoded = orjson.dumps(payload)
        return push_text.padded(encoded)

    async def send(self, delivery: PushDelivery) -> str:
        """Send one push; the outcome: ``done``, ``gone`` (subscription removed),
        ``retry`` or ``dead``."""
        store = self.store
        sub = await store.push.get(delivery.subscription_id)
        if sub is None:
            return "gone"
        if not await store.push.token_live(sub.token_id):
            await store.push.remove(sub.id)
            return "gone"
        n = await store.notifications.get(sub.account_id, delivery.notification_id)
        body = None if n is None else await self.build_payload(sub, n)
        if body is None:  # dismissed, or its status deleted: nothing to say
            await store.push.finish(delivery.id)
            return "done"
        try:
            settings = self.settings
            private = private_allowed(sub.endpoint, settings.allow_private, settings.private_hosts)
            session = self.session
            if private and not settings.allow_private:
                if self.private_session is None:
                    raise RefusedAddress("private push hosts are not configured")
                session = self.private_session
            target = check_url(sub.endpoint, settings.scheme, private)
            push = webpush.encrypt(
                body,
                p256dh=sub.p256dh,
                auth=sub.auth,
                standard=sub.standard,
                vapid=self.vapid,
                endpoint=sub.endpoint,
                subject=self.settings.subject,
                ttl=self.settings.ttl_seconds,
            )
        except (RefusedAddress, webpush.BadSubscriptionKey) as exc:
            await store.push.retry(delivery.id, f"refused: {exc}", retry_at=None)
            return "dead"
        try:
            async with session.post(
                target,
                data=push.body,
                headers=push.headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_seconds),
            ) as response:
                with contextlib.suppress(TimeoutError, aiohttp.ClientError):
                    await response.content.read(_RESPONSE_DRAIN_BYTES)
                status = response.status
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, RefusedAddress):  # the name resolved to a refused address
                await store.push.retry(delivery.id, f"refused: {exc.os_error}", retry_at=None)
                return "dead"
            return await self._again(delivery, f"{type(exc).__name__}: {exc}")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return await self._again(delivery, f"{type(exc).__name__}: {exc}")
        if 200 <= status < 300:
            await store.push.finish(delivery.id)
            return "done"
        if status in (404, 410):  # the subscription expired or was unsubscribed
            await store.push.remove(sub.id)
            return "gone"
        if status == 429 or status >= 500 or status == 408:
            return await self._again(delivery, f"HTTP {status}")
        await store.push.retry(delivery.id, f"HTTP {status}", retry_at=None)
        return "dead"

    async def _again(self, delivery: PushDelivery, error: str) -> str:
        if delivery.attempts + 1 >= self.settings.max_attempts:
            await self.store.push.retry(delivery.id, error, retry_at=None)
            return "dead"
        await self.store.push.retry(
            delivery.id, error, retry_at=now_ms() + backoff_ms(delivery.attempts)
        )
        return "retry"

    async def run_once(self) -> int:
        """Send what is due now, a batch at a time, side by side; the number handled."""
        handled = 0
        while True:
            batch = await self.store.push.claim(_BATCH)
            if not batch:
                return handled
            results = await asyncio.gather(*(self.send(d) for d in batch), return_exceptions=True)
            for d, result in zip(batch, results, strict=True):
                if isinstance(result, BaseException):
                    if isinstance(result, asyncio.CancelledError):
                        raise result
                    log.error("push %s failed", d.id, exc_info=result)
                    await self._again(d, repr(result))
            handled += len(batch)

    async def run(self) -> None:
        """Send until cancelled: on each notification event, and every few seconds for
        retries that came due. Finished rows older than a week are pruned hourly, by one
        process of the fleet (a lease row)."""
        prune_at = 0.0
        while True:
            self.wake.clear()
            try:
                await self.run_once()
                if time.monotonic() >= prune_at:
                    prune_at = time.monotonic() + _PRUNE_EVERY_SECONDS
                    await periodic.run_if_due(
                        self.store, PRUNE_JOB, _PRUNE_EVERY_SECONDS, self._prune
                    )
                    prune_at = time.monotonic() + await periodic.seconds_until_due(
                        self.store, PRUNE_JOB, _PRUNE_EVERY_SECONDS
                    )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("push worker pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.settings.poll_seconds)

    async def _prune(self) -> None:
        await self.store.push.prune(now_ms() - _KEEP_FINISHED_MS)

    async def listen(self) -> None:
        """Wake the worker when a notification is made (in any process, on PostgreSQL)."""
        while True:
            try:
                async with events.subscribe(self.store.db) as messages:
                    async for message in messages:
                        if '"notification"' in message:
                            self.wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("push worker lost the event channel; polling meanwhile")
                await asyncio.sleep(self.settings.poll_seconds)
