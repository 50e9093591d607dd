"""mentions: more than `max` distinct addressed actors (Mention tags plus to/cc)."""

from __future__ import annotations

from typing import Any

from policy.activity import ActivityView
from policy.base import PolicyContext
from policy.rules.options import OptionReader
from policy.rules.rule import Rule


class MentionsRule(Rule):
    """Matches mention spam; Public and followers collections are not counted."""

    kind = "mentions"
    __slots__ = ("_max",)

    def configure(self, options: OptionReader) -> None:
        self._max = options.integer("max", minimum=0)
        if self._max is None:
            raise options.error("max", "required key is missing")

    def match(self, view: ActivityView, ctx: PolicyContext) -> str | None:
        if view.content_object is None:
            return None
        count = len(view.addressed_actors)
        if self._max is not None and count > self._max:
            return f"{count} mentions (max {self._max})"
        return None

    def options(self) -> dict[str, Any]:
        return {"max": self._max}
