"""Who is really calling: the client address behind ``server.trusted_proxies``.

The TCP peer is the client unless it is one of the trusted proxies (addresses or CIDR
networks). Then ``X-Forwarded-For`` is read from the right (each proxy appends the address
it received the request from), skipping trusted proxies; the first address that is not
one is the client. Everything left of it was written by the client and is ignored, so a
client cannot pick its own address, and a client that talks to us directly cannot either:
its ``X-Forwarded-For`` is not read at all.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from aiohttp import web

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "unknown"  # no TCP peer address (a Unix socket): one shared bucket
_CLIENT_IP = web.RequestKey("fedinode.client_ip", str)


@lru_cache(maxsize=4096)  # the same few addresses come again and again
def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it: bare, ``[v6]`` or ``[v6]:port``, ``v4:port``, with
    IPv4-mapped IPv6 taken as the IPv4 address; None for anything else."""
    value = text.strip()
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class Networks:
    """A set of addresses and networks (``"10.0.0.0/8"``, ``"::1"``) to test membership in."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(entry.strip(), strict=False) for entry in entries
        )

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        return any(address.version == n.version and address in n for n in self.networks)

    def __bool__(self) -> bool:
        return bool(self.networks)


def resolve(peer: str | None, forwarded_for: Iterable[str], trusted: Networks) -> str:
    """The client address for a request from ``peer`` carrying these X-Forwarded-For
    header values (in order); see the module docstring."""
    address = parse_address(peer) if peer else None
    if address is None:
        return UNKNOWN
    if address not in trusted:
        return str(address)
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        parsed = parse_address(hop)
        if parsed is None:
            # A trusted proxy wrote something that is not an address ("unknown"): the
            # proxy is the closest thing to the client we know.
            return str(address)
        address = parsed
        if address not in trusted:
            return str(address)
    return str(address)  # all trusted: the leftmost hop


def client_ip(request: web.Request, trusted: Networks) -> str:
    """The client address of ``request`` (cached on the request)."""
    found = request.get(_CLIENT_IP)
    if found is None:
        found = resolve(request.remote, request.headers.getall("X-Forwarded-For", []), trusted)
        request[_CLIENT_IP] = found
    return found


@lru_cache(maxsize=4096)
def bucket(address: str) -> str:
    """The key a per-address limit counts under: the address, IPv6 by its /64 (one
    customer usually holds a whole /64, as Mastodon counts them)."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return address
