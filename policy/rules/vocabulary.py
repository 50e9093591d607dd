"""vocabulary: accept or reject activity and object types."""

from __future__ import annotations

from typing import Any

from policy.activity import ActivityView
from policy.base import PolicyContext
from policy.rules.options import OptionReader
from policy.rules.rule import Rule


class VocabularyRule(Rule):
    """Matches a type listed in `reject`, or (when `accept` is set) a type not listed in it."""

    kind = "vocabulary"
    __slots__ = ("_accept", "_reject")

    def configure(self, options: OptionReader) -> None:
        self._accept = frozenset(options.strings("accept"))
        self._reject = frozenset(options.strings("reject"))

    def match(self, view: ActivityView, ctx: PolicyContext) -> str | None:
        for type_ in (*view.types, *view.object_types):
            if type_ in self._reject:
                return f"type {type_} is rejected"
            if self._accept and type_ not in self._accept:
                return f"type {type_} is not accepted"
        return None

    def options(self) -> dict[str, Any]:
        return {"accept": sorted(self._accept), "reject": sorted(self._reject)}
