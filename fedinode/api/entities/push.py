"""Web Push: the subscription of an access token."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import TypedDict


class WebPushSubscription(TypedDict):
    id: str
    endpoint: str
    standard: bool
    alerts: dict[str, bool]
    policy: str
    server_key: str
