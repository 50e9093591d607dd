"""new_account_links: links posted by an account first seen less than min_age_hours ago."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from policy.activity import ActivityView
from policy.base import PolicyContext
from policy.rules.options import OptionReader
from policy.rules.rule import Rule

_ANCHOR = re.compile(r"<a\s([^>]*)>", re.IGNORECASE)
_HREF = re.compile(r"""href\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_CLASS_OR_REL = re.compile(r"""(?:class|rel)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_ANCHOR_BLOCK = re.compile(r"<a\s.*?</a>", re.IGNORECASE | re.DOTALL)
_BARE_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_NOT_LINKS = frozenset({"mention", "hashtag", "tag", "u-url"})


def links(view: ActivityView) -> list[str]:
    """Links in the content that are neither mentions nor hashtags."""
    found: list[str] = []
    for raw in view.raw_texts:
        if "http" not in raw:
            continue
        for anchor in _ANCHOR.finditer(raw):
            attrs = anchor.group(1)
            href = _HREF.search(attrs)
            if href is None or href.group(1) in view.tag_hrefs:
                continue
            words = {w for m in _CLASS_OR_REL.finditer(attrs) for w in m.group(1).lower().split()}
            if words & _NOT_LINKS:
                continue
            found.append(href.group(1))
        found.extend(_BARE_URL.findall(_ANCHOR_BLOCK.sub(" ", raw)))
    return found


class NewAccountLinksRule(Rule):
    """Matches link posts from young accounts (unknown first-seen time never matches)."""

    kind = "new_account_links"
    __slots__ = ("_hours", "_min_age")

    def configure(self, options: OptionReader) -> None:
        self._hours = options.number("min_age_hours")
        self._min_age = timedelta(hours=self._hours)

    def match(self, view: ActivityView, ctx: PolicyContext) -> str | None:
        first_seen = ctx.actor_first_seen
        if first_seen is None or view.content_object is None:
            return None
        age = ctx.now - first_seen
        if age >= self._min_age:
            return None
        found = links(view)
        if not found:
            return None
        return (
            f"account first seen {int(age.total_seconds() // 3600)}h ago posted a link ({found[0]})"
        )

    def options(self) -> dict[str, Any]:
        return {"min_age_hours": self._hours}
