"""Tolerant readers for liberal ActivityStreams input.

Peers (Mastodon, Akkoma, Misskey, GoToSocial, …) send the same property as a string,
an object, a Link or a list. These helpers normalise without ever raising.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from activitypub.vocab import PUBLIC_ALIASES


def as_list(value: Any) -> list[Any]:
    """None → [], list/tuple → list, anything else → [value]."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, tuple):
        return list(value)
    return [value]


def id_of(value: Any) -> str | None:
    """The id of a reference: a string, ``{"id": …}``, ``{"href": …}``, or a list's first."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        for key in ("id", "@id", "href"):
            candidate = value.get(key)
            if isinstance(candidate, str) and candidate:
                return candidate
        return None
    if isinstance(value, list):
        for item in value:
            found = id_of(item)
            if found is not None:
                return found
    return None


def ids_of(value: Any) -> list[str]:
    """Every id in a reference or a list of references, in order, without duplicates."""
    out: list[str] = []
    seen: set[str] = set()
    for item in as_list(value):
        found = id_of(item) if not isinstance(item, list) else None
        if found is not None and found not in seen:
            seen.add(found)
            out.append(found)
    return out


def first_str(value: Any) -> str | None:
    """The first non-empty string in a value or list; None otherwise."""
    if isinstance(value, str):  # the common case, without a list made for it
        return value or None
    for item in as_list(value):
        if isinstance(item, str) and item:
            return item
    return None


def is_public(*addressing: Any) -> bool:
    """True if any of the addressing fields (to, cc, audience…) names Public."""
    for field in addressing:
        for target in ids_of(field):
            if target in PUBLIC_ALIASES:
                return True
    return False


def obj_type(value: Any) -> str | None:
    """The type of an object: ``type`` (string or first of a list) or ``@type``."""
    if not isinstance(value, dict):
        return None
    found = value.get("type")
    if isinstance(found, str) and found:  # the common case: asked ~10 times an activity
        return found
    for key in ("type", "@type"):
        found = first_str(value.get(key))
        if found is not None:
            return found
    return None


def has_type(value: Any, types: Iterable[str]) -> bool:
    """True if any of the object's types (``type`` may be a list) is in ``types``."""
    if not isinstance(value, dict):
        return False
    wanted = set(types)
    return any(isinstance(t, str) and t in wanted for t in as_list(value.get("type")))


def content_of(obj: Any) -> str:
    """HTML content: ``content``, else the first value of ``contentMap``, else ""."""
    if not isinstance(obj, dict):
        return ""
    content = obj.get("content")
    if isinstance(content, str) and content:
        return content
    content_map = obj.get("contentMap")
    if isinstance(content_map, dict):
        for value in content_map.values():
            if isinstance(value, str) and value:
                return value
    if isinstance(content, list):
        found = first_str(content)
        if found is not None:
            return found
    return ""


def language_of(obj: Any) -> str | None:
    """The language of the content: the first key of ``contentMap`` if any."""
    if isinstance(obj, dict):
        content_map = obj.get("contentMap")
        if isinstance(content_map, dict):
            for key, value in content_map.items():
                if isinstance(key, str) and key and isinstance(value, str):
                    return key
    return None


def url_of(obj: Any) -> str | None:
    """A human URL: ``url`` as a string, a Link dict, or a list (text/html Link first)."""
    value = obj.get("url") if isinstance(obj, dict) else obj
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        href = value.get("href")
        return href if isinstance(href, str) and href else id_of(value)
    if isinstance(value, list):
        fallback: str | None = None
        for item in value:
            if isinstance(item, dict) and item.get("mediaType") == "text/html":
                href = item.get("href")
                if isinstance(href, str) and href:
                    return href
            if fallback is None:
                fallback = url_of({"url": item}) if not isinstance(item, list) else None
        return fallback
    return None


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 (``Z`` or offset, fractional seconds); or None."""
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
