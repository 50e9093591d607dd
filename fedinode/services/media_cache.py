"""The remote media cache: remote avatars, headers and attachments fetched once by the
worker, re-encoded like uploads and served from our own ``/media/`` URLs.

What to fetch is queued when a remote status or account shows up (``wanted_for_status``,
``wanted_for_account``, called from ``SideEffects``); ``MediaCacheWorker`` fetches it
through the SSRF guard (every redirect hop checked, private addresses only where
``[federation] allow_private_addresses`` says so) with size, type and time limits. Until a
file is cached, or once it is evicted, clients see the remote URL, as Mastodon shows it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import aiohttp
from yarl import URL

from activitypub.errors import RefusedAddress
from activitypub.netguard import Scheme, check_url
from activitypub.peer_limits import PeerLimiter
from activitypub.policy_gate import PolicyGate
from fedinode.config import Config
from fedinode.errors import ValidationFailed
from fedinode.services.media import fit_profile_image, media_meta, process_image
from fedinode.services.media_files import media_files
from fedinode.services.media_processing import describe_cached
from storage.ids import now_ms
from storage.media_cache import CachedFiles, RemoteMedia, WantedMedia, cache_key
from storage.models import Account, MediaAttachment
from storage.store import Store

log = logging.getLogger("fedinode.media")

MAX_REDIRECTS = 3
BATCH = 8
IDLE_SECONDS = 5.0
DAY_MS = 86_400_000
_EXTENSIONS = {
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/mp4": "m4a",
    "audio/webm": "weba",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/flac": "flac",
}

_UNTYPED = frozenset({"", "application/octet-stream", "binary/octet-stream"})

# host → why media from it is refused, or None (the policy's fetch check and reject_media).
HostRefusal = Callable[[str], str | None]


class Refused(Exception):
    """This file will not be cached (too large, wrong type, refused by policy): the remote
    URL stays."""


class Transient(Exception):
    """Fetching failed in a way that may pass (network, 5xx): try again later."""


# -- what to fetch ---------------------------------------------------------------------------


def wanted_for_account(account: Account) -> list[WantedMedia]:
    """A remote account's avatar and header, unless the cached copies are current."""
    if account.local:
        return []
    out = []
    for kind, url, cached in (
        ("avatar", account.avatar_url, account.avatar_cache),
        ("header", account.header_url, account.header_cache),
    ):
        if url and cache_key(url) not in cached:
            out.append(WantedMedia(kind, account.id, url, account.domain))
    return out


def wanted_for_media(media: Sequence[MediaAttachment], domain: str) -> list[WantedMedia]:
    return [
        WantedMedia("attachment", m.id, m.remote_url, domain)
        for m in media
        if m.remote_url and not m.file_path
    ]


async def queue_account(store: Store, account: Account) -> None:
    """Queue a remote account's avatar and header; a failure to queue fails nothing else."""
    try:
        await store.media_cache.enqueue(wanted_for_account(account))
    except Exception:
        log.exception("queueing media of account %s failed", account.id)


async def queue_status(
    store: Store, status_id: int, author: Account, media: list[MediaAttachment] | None = None
) -> None:
    """Queue a remote status's attachments (``media``, when the caller read them) and its
    author's avatar and header."""
    if author.local:
        return
    try:
        if media is None:
            media = (await store.statuses.media_for([status_id])).get(status_id, [])
        await store.media_cache.enqueue(
            [*wanted_for_media(media, author.domain), *wanted_for_account(author)]
        )
    except Exception:
        log.exception("queueing media of status %s failed", status_id)


# -- fetching --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchLimits:
    scheme: Scheme
    allow_private: bool
    image_max_bytes: int
    video_max_bytes: int
    video_types: frozenset[str]
    timeout_seconds: float

    @classmethod
    def from_config(cls, config: Config) -> FetchLimits:
        m = config.media
        return cls(
            scheme="http" if config.scheme == "http" else "https",
            allow_private=config.federation.allow_private_addresses,
            image_max_bytes=m.remote_image_max_bytes,
            video_max_bytes=m.remote_video_max_bytes,
            video_types=frozenset(t.lower() for t in m.remote_video_types),
            timeout_seconds=m.remote_fetch_timeout_seconds,
        )

    def cap_for(self, content_type: str, kind: str) -> int:
        if kind == "attachment" and content_type in self.video_types:
            return self.video_max_bytes
        # An image served without a precise type is still decoded (and checked) by Pillow.
        if content_type.startswith("image/") or content_type in _UNTYPED:
            return self.image_max_bytes
        raise Refused(f"content type {content_type or 'missing'!r} is not cached")


async def fetch_file(
    session: aiohttp.ClientSession,
    url: str,
    kind: str,
    limits: FetchLimits,
    host_refusal: HostRefusal,
) -> tuple[str, bytes]:
    """GET a remote file: (content type, body). Each redirect hop is checked (address and
    policy); the body is capped by its type; the whole fetch by ``timeout_seconds``."""
    try:
        current = check_url(url, limits.scheme, limits.allow_private)
    except RefusedAddress as exc:
        raise Refused(f"address refused: {exc}") from None
    timeout = aiohttp.ClientTimeout(total=limits.timeout_seconds)
    for _ in range(MAX_REDIRECTS + 1):
        host = (current.host_port_subcomponent or "").lower()
        reason = host_refusal(host)
        if reason is not None:
            raise Refused(reason)
        try:
            async with session.get(current, allow_redirects=False, timeout=timeout) as response:
                if response.status in (301, 302, 303, 307, 308):
                    location = response.headers.get("Location")
                    if not location:
                        raise Refused("redirect without Location")
                    try:
                        current = check_url(
                            current.join(URL(location)), limits.scheme, limits.allow_private
                        )
                    except (RefusedAddress, ValueError) as exc:
                        raise Refused(f"redirect refused: {exc}") from None
                    continue
                if response.status in (404, 410) or 400 <= response.status < 500:
                    raise Refused(f"remote answered {response.status}")
                if response.status != 200:
                    raise Transient(f"remote answered {response.status}")
                content_type = response.content_type.lower()
                cap = limits.cap_for(content_type, kind)
                if response.content_length is not None and response.content_length > cap:
                    raise Refused(f"{response.content_length} bytes is over the {cap} limit")
                body = bytearray()
                async for chunk in response.content.iter_chunked(65536):
                    body += chunk
                    if len(body) > cap:
                        raise Refused(f"more than the {cap} bytes limit")
                if not body:
                    raise Refused("empty file")
                return content_type, bytes(body)
        except RefusedAddress as exc:
            raise Refused(f"address refused: {exc}") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Transient(f"fetch failed: {exc!r}") from None
    raise Refused("too many redirects")


def policy_refusal(gate: PolicyGate) -> HostRefusal:
    """The policy's answer for media from a host: refused by the fetch check (suspended,
    not allowed), or by a domain block with ``reject_media``."""

    def refusal(host: str) -> str | None:
        pipeline = gate.pipeline
        decision = pipeline.check_host(host, "fetch")
        if not decision.allowed:
            return decision.reason or "refused by policy"
        block = pipeline.domain_block_for(host)
        if block is not None and block.reject_media and not pipeline.dry_run:
            return "media from this domain is rejected"
        return None

    return refusal


# -- storing ---------------------------------------------------------------------------------


def _folder(item: RemoteMedia) -> str:
    # Named after the remote URL (what renderings check a copy against), plus a random
    # part: each fetch writes new files, so a replaced copy never serves stale bytes.
    key = cache_key(item.remote_url)
    return f"cache/{item.kind}s/{key[:2]}/{key[2:4]}/{key}-{secrets.token_hex(6)}"


def make_files(config: Config, item: RemoteMedia, content_type: str, data: bytes) -> CachedFiles:
    """Re-encode (images) or keep as-is (allowed video and audio) and write the files.
    CPU-bound and blocking: run it in a thread."""
    files = media_files(config)
    folder = _folder(item)
    max_pixels = config.media.max_image_pixels
    try:
        if item.kind in ("avatar", "header"):
            body, ext = fit_profile_image(data, max_pixels=max_pixels, kind=item.kind)
            path = f"{folder}.{ext}"
            files.write(path, body)
            return CachedFiles(file_path=path, bytes=len(body))
        if not content_type.startswith("image/") and content_type not in _UNTYPED:
            ext = _EXTENSIONS.get(content_type, "bin")
            path = f"{folder}/original.{ext}"
            files.write(path, data)
            return CachedFiles(file_path=path, content_type=content_type, bytes=len(data))
        p = process_image(data, max_pixels=max_pixels, thumbnail_size=config.media.thumbnail_size)
    except ValidationFailed as exc:
        raise Refused(str(exc)) from None
    original = f"{folder}/original.{p.extension}"
    small = f"{folder}/small.{p.small_extension}"
    files.write(original, p.original)
    files.write(small, p.small)
    return CachedFiles(
        file_path=original,
        preview_path=small,
        content_type=p.content_type,
        blurhash=p.blurhash,
        meta=media_meta(p),
        bytes=len(p.original) + len(p.small),
    )


def remove_files(config: Config, *paths: str) -> None:
    files = media_files(config)
    for path in paths:
        files.remove(path)


# -- the worker ------------------------------------------------------------------------------


def next_try_at(attempts: int, max_attempts: int) -> int | None:
    """When a failed fetch is tried again (1 min, 4 min, 16 min, … at most an hour), or None
    once it has had its attempts."""
    if attempts >= max_attempts:
        return None
    return now_ms() + min(3_600_000, 60_000 << (2 * max(0, attempts - 1)))


class MediaCacheWorker:
    """Fetches queued remote media, then keeps the cache within its budget."""

    def __init__(
        self,
        store: Store,
        config: Config,
        session: aiohttp.ClientSession,
        host_refusal: HostRefusal,
        limiter: PeerLimiter | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.session = session
        self.host_refusal = host_refusal
        # [policy.peer_limits] media_bytes_per_day, per the media's peer (its owner's domain)
        self.limiter = limiter
        self.limits = FetchLimits.from_config(config)
        self.bytes_fetched = 0

    async def run(self) -> None:
        while True:
            try:
                done = await self.run_once()
            except Exception:
                log.exception("remote media cache round failed")
                done = 0
            if not done:
                await asyncio.sleep(IDLE_SECONDS)

    async def run_once(self) -> int:
        """Fetch one batch of due files; returns how many were handled."""
        items = await self.store.media_cache.claim(BATCH)
        if items:
            await asyncio.gather(*(self._in_turn(group) for group in self._groups(items)))
            await evict_over_budget(self.store, self.config)
        return len(items)

    def _groups(self, items: Sequence[RemoteMedia]) -> list[list[RemoteMedia]]:
        """Files fetched side by side; those of a peer with a media_bytes_per_day limit one
        after another, so that each fetch sees the bytes of the one before."""
        groups: dict[str, list[RemoteMedia]] = {}
        for item in items:
            limited = self.limiter is not None and self.limiter.limit_of(
                item.domain, "media_bytes_per_day"
            )
            groups.setdefault(item.domain if limited else f"#{item.id}", []).append(item)
        return list(groups.values())

    async def _in_turn(self, items: Sequence[RemoteMedia]) -> None:
        for item in items:
            await self.handle(item)

    async def drain(self) -> int:
        """Run until nothing is due (tests, and a CLI run)."""
        total = 0
        while n := await self.run_once():
            total += n
        return total

    async def handle(self, item: RemoteMedia) -> None:
        old = (item.file_path, item.preview_path)
        if self.limiter is not None:
            # The size is known only once fetched: a peer under its limit gets its file
            # whole, one at or over it waits for the next UTC day.
            over = await self.limiter.over(item.domain, "media_bytes_per_day")
            if over is not None and over.enforced:
                retry_at = now_ms() + over.retry_after * 1000
                await self.store.media_cache.retry(item, over.reason, retry_at=retry_at)
                return
        try:
            content_type, data = await fetch_file(
                self.session, item.remote_url, item.kind, self.limits, self.host_refusal
            )
            self.bytes_fetched += len(data)
            if self.limiter is not None:
                await self.limiter.add(item.domain, "media_bytes_per_day", len(data))
            files = await asyncio.to_thread(make_files, self.config, item, content_type, data)
            if files.content_type.startswith(("video/", "audio/")):
                # Kept as the peer sent it; ffprobe gives it Mastodon's meta and a thumbnail.
                found = await describe_cached(self.config, files.file_path, files.content_type)
                if found is not None:
                    files = dataclasses.replace(
                        files,
                        meta=found.meta,
                        preview_path=found.preview_path,
                        blurhash=found.blurhash,
                        bytes=files.bytes + found.preview_bytes,
                    )
        except Refused as exc:
            log.info("not caching %s: %s", item.remote_url, exc)
            await self.store.media_cache.retry(item, str(exc), retry_at=None)
            return
        except Transient as exc:
            at = next_try_at(item.attempts, self.config.media.remote_fetch_attempts)
            await self.store.media_cache.retry(item, str(exc), retry_at=at)
            return
        if await self.store.media_cache.cached(item, files):
            await asyncio.to_thread(remove_files, self.config, *old)
        else:
            # The owner is gone or points elsewhere now: the new files are not used.
            await asyncio.to_thread(remove_files, self.config, files.file_path, files.preview_path)
            if await self.store.media_cache.get(item.kind, item.owner_id) == item:
                await self.store.media_cache.forget(item)


# -- the budget and pruning ------------------------------------------------------------------


async def evict(store: Store, config: Config, item: RemoteMedia) -> bool:
    """Drop a cached copy: its owner shows the remote URL again; the files go."""
    if not await store.media_cache.evict(item):
        return False
    await asyncio.to_thread(remove_files, config, item.file_path, item.preview_path)
    return True


async def evict_over_budget(store: Store, config: Config) -> int:
    """Evict the least recently served copies until the cache fits ``remote_cache_bytes``."""
    budget = config.media.remote_cache_bytes
    if budget <= 0:
        return 0
    total = await store.media_cache.total_bytes()
    evicted = 0
    while total > budget:
        batch = await store.media_cache.least_recent(32)
        if not batch:
            break
        for item in batch:
            if total <= budget:
                break
            if await evict(store, config, item):
                total -= item.bytes
                evicted += 1
    return evicted


async def prune(
    store: Store,
    config: Config,
    older_than_days: float,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Evict copies not served for ``older_than_days``: (files evicted, bytes freed)."""
    cutoff = now_ms() - int(older_than_days * DAY_MS)
    total = await store.media_cache.count_unused_since(cutoff)
    done = freed = 0
    if progress is not None:
        progress(0, total)
    while True:
        batch = await store.media_cache.unused_since(cutoff, 100)
        if not batch:
            break
        for item in batch:
            if await evict(store, config, item):
                freed += item.bytes
            done += 1
            if progress is not None:
                progress(min(done, total), total)
    return done, freed


class AccessLog:
    """Notes when cached files are served, at most once a day per file and process."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._seen: dict[str, int] = {}

    async def served(self, relative: str) -> None:
        if not relative.startswith("cache/"):
            return
        now = int(time.time() * 1000)
        if now - self._seen.get(relative, 0) < DAY_MS:
            return
        if len(self._seen) >= 65536:
            self._seen.clear()
        self._seen[relative] = now
        try:
            await self.store.media_cache.touch(relative, now, now - DAY_MS)
        except Exception:  # serving the file matters more than the note
            log.warning("noting access to %s failed", relative, exc_info=True)


_access_logs: weakref.WeakKeyDictionary[Store, AccessLog] = weakref.WeakKeyDictionary()


def access_log(store: Store) -> AccessLog:
    """The access notes for one store (one per application)."""
    found = _access_logs.get(store)
    if found is None:
        found = _access_logs[store] = AccessLog(store)
    return found
