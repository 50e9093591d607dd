"""Where a URL points: its authority (``host[:port]``) and whether two share one."""

from __future__ import annotations

import re
from functools import lru_cache

from yarl import URL

# The URLs federation passes around are nearly all plain: ``http(s)://`` in lower case, a
# lower-case ASCII host name, perhaps a port. For those the authority is a slice of the
# string; building a yarl URL (the path quoted, the host IDNA-checked) costs ten times
# that. Anything else (upper case, IDNA, default ports, userinfo) goes through yarl.
_PLAIN_PREFIX = re.compile(r"(https?)://([a-z0-9.-]+)(?::([1-9][0-9]{0,4}))?(?=[/?#]|\Z)")
_DEFAULT_PORT = {"http": "80", "https": "443"}
# The same URLs are asked about again and again (an inbox Create asks 8 times about a
# handful): answers for URLs of a sane length are remembered.
_CACHED_LENGTH = 512


def _plain_authority(url: str) -> str | None:
    """The authority of a plain URL as yarl would give it; None when the URL is not plain."""
    match = _PLAIN_PREFIX.match(url)
    if match is None or not url.isascii():
        return None
    scheme, host, port = match.groups()
    if host.endswith(".") or "xn--" in host:
        return None  # yarl drops a trailing dot, and decodes IDNA
    if port is None:
        return host
    if int(port) > 65535 or port == _DEFAULT_PORT[scheme]:
        return None  # yarl refuses the one and drops the other
    return f"{host}:{port}"


def _through_yarl(url: str) -> str:
    try:  # a host yarl cannot decode (bad punycode: UnicodeError) has no authority either
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            return ""
        return (parsed.host_port_subcomponent or "").lower()
    except (ValueError, TypeError):
        return ""


def _uncached_authority(url: str) -> str:
    plain = _plain_authority(url)
    return plain if plain is not None else _through_yarl(url)


_cached_authority = lru_cache(maxsize=4096)(_uncached_authority)


def authority_of(url: str | None) -> str:
    """Lower-case ``host[:port]`` of an absolute http(s) URL; "" when it has none."""
    if not url or not isinstance(url, str):
        return ""
    if len(url) <= _CACHED_LENGTH:
        return _cached_authority(url)
    return _uncached_authority(url)


def same_origin(a: str | None, b: str | None) -> bool:
    host = authority_of(a)
    return bool(host) and host == authority_of(b)
