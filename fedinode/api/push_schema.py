"""Mastodon JSON for Web Push: the WebPushSubscription entity and the VAPID key that the
instance and application entities carry (kept apart from ``schemas.py`` while it is split)."""

from __future__ import annotations

from typing import Any, TypedDict

from storage.push import PushSubscription


class WebPushSubscription(TypedDict):
    id: str
    endpoint: str
    standard: bool
    alerts: dict[str, bool]
    policy: str
    server_key: str


def push_subscription_to_api(sub: PushSubscription, server_key: str) -> WebPushSubscription:
    return {
        "id": str(sub.id),
        "endpoint": sub.endpoint,
        "standard": sub.standard,
        "alerts": dict(sub.alerts),
        "policy": sub.policy,
        "server_key": server_key,
    }


def with_vapid_key(entity: Any, public_key: str) -> Any:
    """An Application (``vapid_key``) or a v2 Instance (``configuration.vapid.public_key``)
    with the instance's key filled in. (Mastodon's v1 Instance has no place for it.)"""
    if "vapid_key" in entity:
        entity["vapid_key"] = public_key
    configuration = entity.get("configuration")
    if isinstance(configuration, dict) and "vapid" in configuration:
        configuration["vapid"]["public_key"] = public_key
    return entity
