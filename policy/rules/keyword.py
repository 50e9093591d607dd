"""keyword: a case-insensitive substring or a /regex/flags in content, summary or name."""

from __future__ import annotations

import re
from typing import Any

from policy.activity import ActivityView
from policy.base import PolicyContext
from policy.rules.options import OptionReader
from policy.rules.rule import Rule
from policy.text import fold

_REGEX = re.compile(r"^/(.*)/([imsx]*)$", re.DOTALL)
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_SPACE = re.compile(r"\s+")


class KeywordRule(Rule):
    """Matches text of the object of Create/Update/Announce in any script (``policy.text.fold``: Arabic/Persian letter variants, tatweel, harakat, digits, case, accents)."""

    kind = "keyword"
    __slots__ = ("_patterns", "_regexes", "_substrings")

    def configure(self, options: OptionReader) -> None:
        self._patterns = options.strings("pattern", required=True, allow_single=True)
        substrings: list[str] = []
        regexes: list[re.Pattern[str]] = []
        for index, pattern in enumerate(self._patterns):
            key = "pattern" if len(self._patterns) == 1 else f"pattern[{index}]"
            found = _REGEX.match(pattern)
            if found:
                flags = 0
                for letter in found.group(2):
                    flags |= _FLAGS[letter]
                try:
                    regexes.append(re.compile(found.group(1), flags))
                except re.error as exc:
                    raise options.error(key, f"invalid regex {pattern!r}: {exc}") from None
            else:
                text = _SPACE.sub(" ", fold(pattern)).strip()
                if not text:
                    raise options.error(key, "must not be empty")
                substrings.append(text)
        self._substrings = tuple(substrings)
        self._regexes = tuple(regexes)

    def match(self, view: ActivityView, ctx: PolicyContext) -> str | None:
        if not view.raw_texts:
            return None
        if self._substrings:
            folded = view.folded_text
            for text in self._substrings:
                if text in folded:
                    return f"keyword {text!r}"
        for regex in self._regexes:
            if regex.search(view.text):
                return f"keyword /{regex.pattern}/"
        return None

    def options(self) -> dict[str, Any]:
        return {"pattern": list(self._patterns)}
