"""WebPushSubscription: an access token's Web Push subscription, with the instance's key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.push import PushSubscription

if TYPE_CHECKING:
    from fedinode.api import entities as e


def push_subscription_to_api(sub: PushSubscription, server_key: str) -> e.WebPushSubscription:
    return {
        "id": str(sub.id),
        "endpoint": sub.endpoint,
        "standard": sub.standard,
        "alerts": dict(sub.alerts),
        "policy": sub.policy,
        "server_key": server_key,
    }
