"""Search results (v2)."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import TypedDict

from fedinode.api.entities.accounts import Account
from fedinode.api.entities.statuses import Status
from fedinode.api.entities.tags import Tag


class Search(TypedDict):
    accounts: list[Account]
    statuses: list[Status]
    hashtags: list[Tag]
