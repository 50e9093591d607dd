"""/api/v1/push/subscription: the Web Push subscription of the calling access token."""

from __future__ import annotations

from aiohttp import web

from fedinode import appkeys
from fedinode.api import schemas
from fedinode.api.auth import bearer_token, principal, require_scopes, viewer_account
from fedinode.api.params import Params, ctx_of, json_response, read_params
from fedinode.errors import ValidationFailed
from fedinode.services import push
from storage.push import PushSubscription


def _render(request: web.Request, sub: PushSubscription) -> web.Response:
    return json_response(
        schemas.push_subscription_to_api(sub, request.app[appkeys.VAPID].public_key)
    )


def _alerts(params: Params) -> dict[str, bool] | None:
    """``data[alerts][mention]=true…`` (form or JSON); None when no alerts were sent."""
    data = params.sub("data")
    if "alerts" not in data:
        return None
    alerts = data.sub("alerts")
    return {name: alerts.bool(name) for name in push.ALERTS if name in alerts}


def _policy(params: Params) -> str | None:
    # Mastodon reads data[policy]; some libraries (Mastodon.py) send a bare policy.
    return params.sub("data").str("policy") or params.str("policy")


def _admin(request: web.Request) -> bool:
    user = principal(request).user
    return user is not None and user.admin


@require_scopes("push")
async def create_push_subscription(request: web.Request) -> web.Response:
    params = await read_params(request)
    subscription = params.sub("subscription")
    keys = subscription.sub("keys")
    endpoint = subscription.str("endpoint")
    p256dh = keys.str("p256dh")
    auth = keys.str("auth")
    if not endpoint or not p256dh or not auth:
        raise ValidationFailed(
            "Validation failed: subscription[endpoint], subscription[keys][p256dh] and"
            " subscription[keys][auth] are required"
        )
    standard = subscription.opt_bool("standard")
    if standard is None:
        standard = params.bool("standard")
    ctx = ctx_of(request)
    caller = principal(request)
    config = ctx.config
    sub = await push.subscribe(
        ctx.store,
        push.SubscriptionRequest(
            endpoint=endpoint,
            p256dh=p256dh,
            auth=auth,
            standard=standard,
            alerts=_alerts(params) or {},
            policy=_policy(params) or "all",
        ),
        token_id=caller.token.id,
        access_token=bearer_token(request) or "",
        account_id=viewer_account(request).id,
        admin=_admin(request),
        scheme="http" if config.scheme == "http" else "https",
        allow_private=config.federation.allow_private_addresses,
        private_hosts=frozenset(h.lower().rstrip(".") for h in config.push.private_hosts),
    )
    return _render(request, sub)


@require_scopes("push")
async def get_push_subscription(request: web.Request) -> web.Response:
    sub = await push.current(ctx_of(request).store, principal(request).token.id)
    return _render(request, sub)


@require_scopes("push")
async def update_push_subscription(request: web.Request) -> web.Response:
    params = await read_params(request)
    sub = await push.update(
        ctx_of(request).store,
        principal(request).token.id,
        alerts=_alerts(params),
        policy=_policy(params),
        admin=_admin(request),
    )
    return _render(request, sub)


@require_scopes("push")
async def delete_push_subscription(request: web.Request) -> web.Response:
    await push.unsubscribe(ctx_of(request).store, principal(request).token.id)
    return json_response({})
