"""Where a URL points: its authority (``host[:port]``) and whether two share one."""

from __future__ import annotations

from yarl import URL


def authority_of(url: str | None) -> str:
    """Lower-case ``host[:port]`` of an absolute http(s) URL; "" when it has none."""
    if not url or not isinstance(url, str):
        return ""
    try:
        parsed = URL(url)
    except (ValueError, TypeError):
        return ""
    if parsed.scheme not in ("http", "https") or not parsed.host:
        return ""
    try:
        return (parsed.host_port_subcomponent or "").lower()
    except (ValueError, TypeError):
        return ""


def same_origin(a: str | None, b: str | None) -> bool:
    host = authority_of(a)
    return bool(host) and host == authority_of(b)
