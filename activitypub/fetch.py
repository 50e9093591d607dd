"""Outgoing HTTP to peers: guarded session, JSON fetches (optionally signed), delivery POSTs.

Every request goes through ``check_url`` (scheme + literal IPs) and a connector that
refuses disallowed addresses after DNS resolution. Redirects are followed by hand so
each hop is checked. Bodies are streamed and capped.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import quote

import aiohttp
import orjson
from yarl import URL

from activitypub.errors import FetchError, NetworkDeferred, RefusedAddress, TooLarge
from activitypub.httpsig.specs import KNOCK_AGAIN, SignatureSpecs
from activitypub.netguard import GuardedConnector, Scheme, check_url
from activitypub.signatures import sign_bytes, sign_request_as
from activitypub.vocab import ACCEPT_HEADER, ACTIVITY_JSON, is_activity_media_type

if TYPE_CHECKING:
    from activitypub.keys import PrivateKey

DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_TIMEOUT = 10.0
MAX_REDIRECTS = 3
DEFAULT_USER_AGENT = "fedinode"

# signer() -> (key_id, private key object) used to sign GETs (authorized-fetch peers).
Signer: TypeAlias = "Callable[[], tuple[str, PrivateKey]]"

_JSON_BASES = frozenset({"application/json", "application/activity+json", "application/ld+json",
                         "application/jrd+json"})  # fmt: skip


def make_ssl_context(ca_file: str | None = None) -> ssl.SSLContext:
    """Default verifying TLS context, also trusting ``ca_file`` if given."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


@cache
def _context_trusting(ca_file: str) -> ssl.SSLContext:
    return make_ssl_context(ca_file)


def _tls(ca_file: str | None) -> ssl.SSLContext | bool:
    """The sessions' TLS: each context holds its own copy of the system CAs (~0.8 MB), so
    without ``ca_file`` they share aiohttp's verifying context (``True``), and with one
    they share one context per file."""
    return _context_trusting(ca_file) if ca_file else True


def make_client_session(
    scheme: Scheme = "https",
    allow_private: bool = False,
    ca_file: str | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    limit_per_host: int = 8,
) -> aiohttp.ClientSession:
    """A ClientSession for talking to peers; call inside the running loop (cleanup_ctx).

    ``scheme`` is recorded for the Fetcher; the connector itself refuses non-allowed
    addresses whatever the URL.
    """
    del scheme  # scheme is enforced per request by check_url; kept for a uniform signature
    connector = GuardedConnector(
        allow_private=allow_private,
        ssl=_tls(ca_file),
        limit_per_host=limit_per_host,
        ttl_dns_cache=300,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 5.0)),
        headers={"User-Agent": user_agent},
        auto_decompress=True,
        trust_env=False,
        # Peers' cookies are neither kept nor sent back (one session talks to every peer;
        # nothing in ActivityPub uses them): no tracking across requests, no jar to search
        # on every request of a fan-out.
        cookie_jar=aiohttp.DummyCookieJar(),
    )


def authority(url: URL) -> str:
    """Lower-case ``host[:port]`` (default ports omitted): what must match for ids."""
    return (url.host_port_subcomponent or "").lower()


_offline: ContextVar[bool] = ContextVar("fedinode_fetch_offline", default=False)


@contextmanager
def offline() -> Iterator[None]:
    """In this block (this task only) a GET raises NetworkDeferred instead of going out:
    for work that holds a database transaction open, which must not wait on a peer."""
    token = _offline.set(True)
    try:
        yield
    finally:
        _offline.reset(token)


@dataclass(frozen=True, slots=True)
class PostAnswer:
    """A peer's answer to a POST: its status, and how long it asked us to wait before the
    next one (``Retry-After`` with 429 or 503, in seconds; None when it did not say)."""

    status: int
    retry_after: float | None = None


# Statuses whose Retry-After is read (RFC 9110 § 10.2.3, RFC 6585 § 4).
_WAIT_STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delay-seconds or an HTTP-date; None if absent or
    unreadable, 0 for a date already past."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text[:12]))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    moment = time.time() if now is None else now
    return max(0.0, when.timestamp() - moment)


class Fetcher:
    """Fetch ActivityStreams documents and deliver activities through one guarded session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        scheme: Scheme = "https",
        allow_private: bool = False,
        signer: Signer | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.session = session
        self.scheme: Scheme = scheme
        self.allow_private = allow_private
        self.signer = signer
        self.max_body = max_body
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._checked: dict[str, URL] = {}
        self._hosts_passed: set[tuple[str, str]] = set()  # (scheme, host) check_url passed
        # Request bodies as aiohttp payloads, made once per body: a fan-out sends one body
        # to many inboxes (bytes payloads are immutable and may be sent any number of times).
        self._payloads: dict[bytes, aiohttp.BytesPayload] = {}
        self.specs = SignatureSpecs()

    def check(self, url: str | URL) -> URL:
        """Refuse a URL this fetcher must not contact (RefusedAddress).

        The check depends on the URL alone (names are checked again after DNS), so
        passed URL strings are remembered: a fan-out checks each inbox once, not per post.
        """
        if not isinstance(url, str):
            return check_url(url, self.scheme, self.allow_private)
        checked = self._checked.get(url)
        if checked is None:
            checked = self._check_new(url)
            if len(self._checked) >= 8192:
                self._checked.clear()
            self._checked[url] = checked
        return checked

    def _check_new(self, url: str) -> URL:
        # check_url looks at the scheme and the host alone, so a host that passed once
        # passes again: a fan-out to many inboxes on one peer checks its address once.
        try:
            parsed = URL(url)
        except (ValueError, TypeError):
            raise RefusedAddress("invalid URL") from None
        key = (parsed.scheme, parsed.host or "")
        if key not in self._hosts_passed:
            check_url(parsed, self.scheme, self.allow_private)
            if len(self._hosts_passed) >= 8192:
                self._hosts_passed.clear()
            self._hosts_passed.add(key)
        return parsed

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        length = response.content_length
        if length is not None and length > self.max_body:
            raise TooLarge("remote document too large", detail=str(response.url))
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > self.max_body:
                raise TooLarge("remote document too large", detail=str(response.url))
            chunks.append(chunk)
        return b"".join(chunks)

    async def _get(
        self,
        url: URL,
        accept: str,
        sign: bool,
        host_allowed: Callable[[str], bool] | None = None,
    ) -> tuple[URL, int, str, bytes]:
        """GET following up to MAX_REDIRECTS checked redirects; (final url, status, type, body).

        ``host_allowed`` (the policy's fetch check) is asked about every hop's host: a
        redirect must not lead us to a peer we refuse to talk to.
        """
        if _offline.get():
            raise NetworkDeferred(str(url))
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            self.check(current)
            if host_allowed is not None and not host_allowed(authority(current)):
                raise FetchError("fetching from this host is refused by policy", status=403,
                                 detail=str(current))  # fmt: skip
            signer = self.signer() if sign and self.signer is not None else None
            peer = authority(current)
            spec = self.specs.first(peer) if signer is not None else ""
            for attempt in (0, 1):
                headers: dict[str, str] = {"Accept": accept}
                if signer is not None:
                    key_id, private_key = signer
                    pending = sign_request_as(spec, "GET", current, headers, None, key_id)
                    headers = pending.complete(sign_bytes(private_key, pending.data))
                try:
                    async with self.session.get(
                        current, headers=headers, allow_redirects=False, timeout=self.timeout
                    ) as response:
                        if signer is not None and response.status in KNOCK_AGAIN and attempt == 0:
                            spec = self.specs.other(spec)  # double-knock
                            continue
                        if attempt == 1 and response.status not in KNOCK_AGAIN:
                            self.specs.remember(peer, spec)  # the second knock worked
                        if response.status in (301, 302, 303, 307, 308):
                            location = response.headers.get("Location")
                            if not location:
                                raise FetchError("redirect without Location",
                                                 remote_status=response.status)  # fmt: skip
                            current = current.join(URL(location))
                            break
                        body = await self._read_capped(response)
                        return current, response.status, response.content_type, body
                except aiohttp.ClientConnectorError as exc:
                    raise _unwrap(exc, current) from exc
                except (TimeoutError, aiohttp.ClientError) as exc:
                    raise FetchError("fetch failed", detail=f"{current}: {exc!r}") from exc
        raise FetchError("too many redirects", detail=str(url))

    async def get_document(
        self,
        url: str | URL,
        accept: str,
        *,
        sign: bool = False,
        host_allowed: Callable[[str], bool] | None = None,
    ) -> tuple[URL, str, bytes]:
        """Any document (a CSV, a list) through the same guards: (final url, type, body).

        Raises RefusedAddress, TooLarge, or FetchError (a status other than 200).
        """
        final, status, content_type, body = await self._get(
            self.check(url), accept, sign, host_allowed
        )
        if status != 200:
            raise FetchError(f"remote answered {status}", detail=str(final), remote_status=status)
        return final, content_type, body

    async def get_json(
        self,
        url: str | URL,
        *,
        sign: bool = True,
        host_allowed: Callable[[str], bool] | None = None,
    ) -> dict[str, Any]:
        """Fetch an ActivityStreams object; its ``id`` must be on the host it came from.

        Raises RefusedAddress, TooLarge, or FetchError (status, content type, JSON, id).
        """
        target = self.check(url)
        final, status, content_type, body = await self._get(
            target, ACCEPT_HEADER, sign, host_allowed
        )
        if status != 200:
            raise FetchError(f"remote answered {status}", detail=str(final), remote_status=status)
        if not _is_json_type(content_type):
            raise FetchError("remote document is not JSON", detail=f"{final}: {content_type}")
        document = _loads_object(body, final)
        doc_id = document.get("id")
        if not isinstance(doc_id, str) or not doc_id:
            raise FetchError("remote document has no id", detail=str(final))
        try:
            id_url = URL(doc_id)
        except ValueError:
            raise FetchError("remote document id is not a URL", detail=doc_id) from None
        if not id_url.absolute or authority(id_url) != authority(final):
            raise FetchError("remote document id is on another host", detail=f"{final} → {doc_id}")
        return document

    async def post_signed(
        self,
        url: str | URL,
        body: bytes,
        key_id: str,
        private_key: PrivateKey,
        *,
        content_type: str = ACTIVITY_JSON,
        extra_headers: Mapping[str, str] | None = None,
        sign: Callable[[bytes], Awaitable[bytes]] | None = None,
        digest: str | None = None,
        slot: asyncio.Semaphore | None = None,
    ) -> PostAnswer:
        """Deliver ``body`` signed with ``private_key``; return the peer's answer.

        ``sign`` (signing string → signature) replaces signing in the event loop, e.g.
        with a process pool; ``digest`` is ``digest_header(body)`` if already known.
        ``slot``, if given, is held while the request is out (not while it is signed): it
        bounds the POSTs in flight, and callers sign the next ones meanwhile.
        Network failures raise FetchError (retry later); RefusedAddress means never retry.
        Redirects are not followed (a delivery answered with 3xx is the caller's call).
        Signed with the spec ``specs`` knows for the peer, and double-knocked on 400/401.
        """
        target = self.check(url)
        headers = {"Content-Type": content_type, "Accept": ACCEPT_HEADER, **(extra_headers or {})}
        peer = authority(target)
        spec = self.specs.first(peer)
        answer = await self._post_once(target, body, headers, spec, key_id, private_key,
                                       sign, digest, slot)  # fmt: skip
        if answer.status in KNOCK_AGAIN:  # double-knock: perhaps the peer wants the other spec
            spec = self.specs.other(spec)
            answer = await self._post_once(target, body, headers, spec, key_id, private_key,
                                           sign, digest, slot)  # fmt: skip
            if answer.status not in KNOCK_AGAIN:
                self.specs.remember(peer, spec)
        # A first knock that worked teaches nothing (and must not undo what the peer's own
        # RFC 9421 requests taught meanwhile).
        return answer

    async def _post_once(
        self,
        target: URL,
        body: bytes,
        headers: Mapping[str, str],
        spec: str,
        key_id: str,
        private_key: PrivateKey,
        sign: Callable[[bytes], Awaitable[bytes]] | None,
        digest: str | None,
        slot: asyncio.Semaphore | None,
    ) -> PostAnswer:
        pending = sign_request_as(spec, "POST", target, headers, body, key_id, digest=digest)
        signature = (
            await sign(pending.data) if sign is not None else sign_bytes(private_key, pending.data)
        )
        signed = pending.complete(signature)
        if slot is None:
            return await self._send_post(target, body, signed)
        async with slot:
            return await self._send_post(target, body, signed)

    def _payload(self, body: bytes) -> aiohttp.BytesPayload:
        found = self._payloads.get(body)
        if found is None:
            if len(self._payloads) >= 16:
                self._payloads.clear()
            found = self._payloads[body] = aiohttp.BytesPayload(body)
        return found

    async def _send_post(self, target: URL, body: bytes, signed: Mapping[str, str]) -> PostAnswer:
        try:
            async with self.session.post(
                target,
                data=self._payload(body),
                headers=signed,
                allow_redirects=False,
                timeout=self.timeout,
            ) as response:
                # Drain a little so the connection can be reused; never the whole body.
                try:
                    await response.content.read(65536)
                except (TimeoutError, aiohttp.ClientError):
                    pass
                if response.status in _WAIT_STATUSES:
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                    return PostAnswer(response.status, wait)
                return PostAnswer(response.status)
        except aiohttp.ClientConnectorError as exc:
            raise _unwrap(exc, target) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise FetchError("delivery failed", detail=f"{target}: {exc!r}") from exc

    async def webfinger(self, acct: str) -> str:
        """Resolve ``user@host`` (``@user@host``, ``acct:user@host``) to its actor URL."""
        handle = acct.strip()
        if handle.startswith("acct:"):
            handle = handle[5:]
        handle = handle.lstrip("@")
        user, sep, host = handle.rpartition("@")
        if not sep or not user or not host or "/" in host:
            raise FetchError("not an account address", status=400, detail=acct)
        scheme = "https" if self.scheme == "https" else "http"
        resource = quote(f"acct:{user}@{host}", safe=":@")
        url = URL(f"{scheme}://{host}/.well-known/webfinger?resource={resource}", encoded=True)
        target = self.check(url)
        final, status, content_type, body = await self._get(
            target, "application/jrd+json, application/json", sign=False
        )
        if status != 200:
            raise FetchError(f"webfinger answered {status}", detail=str(final),
                             remote_status=status)  # fmt: skip
        if not _is_json_type(content_type):
            raise FetchError("webfinger answer is not JSON", detail=f"{final}: {content_type}")
        document = _loads_object(body, final)
        links = document.get("links")
        for link in links if isinstance(links, list) else []:
            if not isinstance(link, dict) or link.get("rel") != "self":
                continue
            href = link.get("href")
            link_type = link.get("type")
            if (
                isinstance(href, str)
                and isinstance(link_type, str)
                and is_activity_media_type(link_type)
            ):
                self.check(href)
                return href
        raise FetchError("webfinger has no ActivityPub self link", detail=str(final))


def _is_json_type(content_type: str) -> bool:
    base = content_type.split(";", 1)[0].strip().lower()
    return base in _JSON_BASES or base.endswith("+json")


def _loads_object(body: bytes, url: URL) -> dict[str, Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise FetchError("remote document is not valid JSON", detail=str(url)) from None
    if not isinstance(document, dict):
        raise FetchError("remote document is not a JSON object", detail=str(url))
    return document


def _unwrap(exc: aiohttp.ClientConnectorError, url: URL) -> FetchError:
    cause = exc.os_error
    if isinstance(cause, RefusedAddress):
        return cause
    return FetchError("could not connect", detail=f"{url}: {exc!r}")
