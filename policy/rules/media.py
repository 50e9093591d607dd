"""media: attachment count, media types ("image/*") and declared sizes."""

from __future__ import annotations

from typing import Any

from policy.activity import ActivityView
from policy.base import PolicyContext
from policy.rules.options import OptionReader
from policy.rules.rule import Rule


def type_allowed(media_type: str, allowed: tuple[str, ...]) -> bool:
    media_type = media_type.split(";", 1)[0].strip().lower()
    major = media_type.split("/", 1)[0]
    for pattern in allowed:
        if pattern == media_type or pattern == "*/*" or pattern == f"{major}/*":
            return True
    return False


class MediaRule(Rule):
    """Matches objects with too many, disallowed or too large attachments."""

    kind = "media"
    __slots__ = ("_allowed_types", "_max_count", "_max_size")

    def configure(self, options: OptionReader) -> None:
        self._max_count = options.integer("max_count", minimum=0)
        self._max_size = options.integer("max_size", minimum=0)
        allowed = options.strings("allowed_types")
        for index, pattern in enumerate(allowed):
            if pattern.count("/") != 1:
                raise options.error(f"allowed_types[{index}]", f"not a media type: {pattern!r}")
        self._allowed_types = tuple(p.lower() for p in allowed)

    def match(self, view: ActivityView, ctx: PolicyContext) -> str | None:
        media = view.media
        if not media:
            return None
        if self._max_count is not None and len(media) > self._max_count:
            return f"{len(media)} attachments (max {self._max_count})"
        for item in media:
            media_type = item.get("mediaType")
            # Without a declared mediaType there is nothing to check against.
            if self._allowed_types and isinstance(media_type, str):
                if not type_allowed(media_type, self._allowed_types):
                    return f"media type {media_type} not allowed"
            size = item.get("size")
            if (
                self._max_size is not None
                and isinstance(size, int)
                and not isinstance(size, bool)
                and size > self._max_size
            ):
                return f"attachment of {size} bytes (max {self._max_size})"
        return None

    def options(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self._max_count is not None:
            out["max_count"] = self._max_count
        if self._allowed_types:
            out["allowed_types"] = list(self._allowed_types)
        if self._max_size is not None:
            out["max_size"] = self._max_size
        return out
