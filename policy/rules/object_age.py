"""object_age: the object's `published` is older than max_age."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from policy.activity import ActivityView
from policy.base import PolicyContext
from policy.rules.options import OptionReader
from policy.rules.rule import Rule


def parse_time(value: Any) -> datetime | None:
    """An xsd:dateTime as an aware datetime (naive means UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class ObjectAgeRule(Rule):
    """Matches objects published more than max_age before ctx.now (backfill, old replies)."""

    kind = "object_age"
    __slots__ = ("_max_age", "_raw")

    def configure(self, options: OptionReader) -> None:
        self._raw = options.raw("max_age")
        self._max_age = options.duration("max_age")

    def match(self, view: ActivityView, ctx: PolicyContext) -> str | None:
        obj = view.content_object
        if obj is None:
            return None
        published = parse_time(obj.get("published"))
        if published is None:
            return None
        age = ctx.now - published
        if age > self._max_age:
            return f"object is {int(age.total_seconds())}s old (max {int(self._max_age.total_seconds())}s)"
        return None

    def options(self) -> dict[str, Any]:
        return {"max_age": self._raw}
