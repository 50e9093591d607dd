"""Report, as its reporter sees it."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import TypedDict

from fedinode.api.entities.accounts import Account


class Report(TypedDict):
    id: str
    action_taken: bool
    action_taken_at: str | None
    category: str
    comment: str
    forwarded: bool
    created_at: str
    status_ids: list[str] | None
    rule_ids: list[str] | None
    target_account: Account
