"""hashtag: Hashtag tags by name, with or without '#', by ``policy.text.tag_key``; "spam*" is a prefix."""

from __future__ import annotations

from typing import Any

from policy.activity import ActivityView
from policy.base import PolicyContext
from policy.rules.options import OptionReader
from policy.rules.rule import Rule
from policy.text import tag_key


class HashtagRule(Rule):
    """Matches when the object carries one of the listed hashtags."""

    kind = "hashtag"
    __slots__ = ("_exact", "_prefixes", "_tags")

    def configure(self, options: OptionReader) -> None:
        self._tags = options.strings("tags", required=True, allow_single=True)
        exact: set[str] = set()
        prefixes: list[str] = []
        for index, tag in enumerate(self._tags):
            name = tag_key(tag.strip().rstrip("*")) + ("*" if tag.strip().endswith("*") else "")
            if name.endswith("*"):
                prefixes.append(name[:-1])
            else:
                exact.add(name)
            if not name.rstrip("*"):
                raise options.error(f"tags[{index}]", "must not be empty")
        self._exact = frozenset(exact)
        self._prefixes = tuple(prefixes)

    def match(self, view: ActivityView, ctx: PolicyContext) -> str | None:
        if not view.tags:
            return None
        present = view.hashtags
        hit = present & self._exact
        if hit:
            return f"hashtag #{min(hit)}"
        for prefix in self._prefixes:
            for name in present:
                if name.startswith(prefix):
                    return f"hashtag #{name}"
        return None

    def options(self) -> dict[str, Any]:
        return {"tags": list(self._tags)}
