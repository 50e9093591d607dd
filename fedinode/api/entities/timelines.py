"""What apps keep beside timelines: List, Marker, Conversation."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import TypedDict

from fedinode.api.entities.accounts import Account
from fedinode.api.entities.statuses import Status


class List(TypedDict):
    id: str
    title: str
    replies_policy: str
    exclusive: bool


class Marker(TypedDict):
    last_read_id: str
    version: int
    updated_at: str | None


class Conversation(TypedDict):
    id: str
    unread: bool
    accounts: list[Account]
    last_status: Status | None
