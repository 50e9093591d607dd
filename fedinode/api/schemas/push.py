"""WebPushSubscription: an access token's Web Push subscription, with the instance's key."""

from __future__ import annotations

from fedinode.api import entities as e
from storage.push import PushSubscription


def push_subscription_to_api(sub: PushSubscription, server_key: str) -> e.WebPushSubscription:
    return {
        "id": str(sub.id),
        "endpoint": sub.endpoint,
        "standard": sub.standard,
        "alerts": dict(sub.alerts),
        "policy": sub.policy,
        "server_key": server_key,
    }
