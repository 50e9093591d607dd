"""SSRF guard: which addresses and URLs the server may connect to.

Checks happen after DNS resolution (``GuardedResolver`` / ``GuardedConnector``), so a
public name pointing at a private address is refused too, as are literal IPs in URLs.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from typing import Literal

from aiohttp import TCPConnector
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from aiohttp.tracing import Trace
from yarl import URL

from activitypub.errors import RefusedAddress

Scheme = Literal["https", "http"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")


def _parse(ip: str | IPAddress) -> IPAddress | None:
    if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return ip
    try:
        return ipaddress.ip_address(ip.strip().strip("[]"))
    except ValueError:
        return None


def _v4_allowed(ip: ipaddress.IPv4Address) -> bool:
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or ip in _CGNAT
        or not ip.is_global
    )


def address_allowed(ip: str | IPAddress, allow_private: bool = False) -> bool:
    """True if connecting to ``ip`` is allowed; non-public ranges only with allow_private.

    Refused: loopback, private, link-local, multicast, reserved, unspecified, CGNAT,
    and IPv6 forms embedding such IPv4 addresses (mapped, 6to4, NAT64). Unparseable → False.
    """
    parsed = _parse(ip)
    if parsed is None:
        return False
    if allow_private:
        # Multicast and unspecified are never a peer, even on a private network.
        return not (parsed.is_multicast or parsed.is_unspecified)
    if isinstance(parsed, ipaddress.IPv4Address):
        return _v4_allowed(parsed)
    embedded: ipaddress.IPv4Address | None = parsed.ipv4_mapped
    if embedded is None and parsed in _SIXTOFOUR:
        embedded = parsed.sixtofour
    if embedded is None and (parsed in _NAT64 or parsed in _NAT64_LOCAL):
        embedded = ipaddress.IPv4Address(int(parsed) & 0xFFFFFFFF)
    if embedded is None and parsed.teredo is not None:
        embedded = parsed.teredo[1]
    if embedded is not None and not _v4_allowed(embedded):
        return False
    return not (
        parsed.is_private
        or parsed.is_loopback
        or parsed.is_link_local
        or parsed.is_site_local
        or parsed.is_multicast
        or parsed.is_reserved
        or parsed.is_unspecified
        or (not parsed.is_global and embedded is None)
    )


def check_url(url: str | URL, scheme: Scheme = "https", allow_private: bool = False) -> URL:
    """Refuse (RefusedAddress) a URL we must not fetch; return it parsed otherwise.

    With ``scheme="https"`` only https URLs pass; with ``"http"`` both http and https.
    Literal IP hosts are checked here; names are checked after resolution.
    """
    try:
        parsed = URL(url) if isinstance(url, str) else url
    except (ValueError, TypeError):
        raise RefusedAddress("invalid URL") from None
    allowed_schemes = ("https",) if scheme == "https" else ("http", "https")
    if parsed.scheme not in allowed_schemes:
        raise RefusedAddress(f"URL scheme {parsed.scheme!r} is not allowed")
    host = parsed.host
    if not host:
        raise RefusedAddress("URL has no host")
    literal = _parse(host)
    if literal is not None:
        if not address_allowed(literal, allow_private):
            raise RefusedAddress("destination address is not allowed", detail=host)
        return parsed
    lowered = host.lower().rstrip(".")
    if not allow_private and (lowered == "localhost" or lowered.endswith(".localhost")):
        raise RefusedAddress("destination address is not allowed", detail=host)
    return parsed


def _filter(results: list[ResolveResult], host: str, allow_private: bool) -> list[ResolveResult]:
    kept = [r for r in results if address_allowed(r["host"], allow_private)]
    if not kept:
        raise RefusedAddress("destination address is not allowed", detail=host)
    return kept


class GuardedResolver(AbstractResolver):
    """Resolve with the default resolver, then drop disallowed addresses.

    If nothing allowed remains, raises ``RefusedAddress`` (an OSError), which aiohttp
    reports as a connection error.
    """

    def __init__(self, allow_private: bool = False, inner: AbstractResolver | None = None) -> None:
        self._allow_private = allow_private
        self._inner: AbstractResolver = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        literal = _parse(host)
        if literal is not None:
            if not address_allowed(literal, self._allow_private):
                raise RefusedAddress("destination address is not allowed", detail=host)
        results = await self._inner.resolve(host, port, family)
        return _filter(results, host, self._allow_private)

    async def close(self) -> None:
        await self._inner.close()


class GuardedConnector(TCPConnector):
    """A TCPConnector that also refuses literal IPs, which aiohttp never sends to a resolver."""

    def __init__(self, *, allow_private: bool = False, **kwargs: object) -> None:
        kwargs.setdefault("resolver", GuardedResolver(allow_private))
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._allow_private = allow_private

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        literal = _parse(host)
        if literal is not None and not address_allowed(literal, self._allow_private):
            raise RefusedAddress("destination address is not allowed", detail=host)
        results = await super()._resolve_host(host, port, traces=traces)
        return _filter(results, host, self._allow_private)
