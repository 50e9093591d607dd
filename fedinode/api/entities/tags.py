"""Tag, with its usage history."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict


class TagHistory(TypedDict):
    day: str
    uses: str
    accounts: str


class Tag(TypedDict):
    id: str
    name: str
    url: str
    history: list[TagHistory]
    following: NotRequired[bool]
