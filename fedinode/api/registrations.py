"""Sign-up and its follow-ups: POST /api/v1/accounts, POST /api/v1/emails/confirmations,
and the admin API's invites (/api/v1/admin/invites; Mastodon has no public one)."""

from __future__ import annotations

from aiohttp import web

from fedinode import appkeys
from fedinode.api import schemas
from fedinode.api.auth import (
    bearer_token,
    parse_scopes,
    principal,
    require_scopes,
    scope_covers,
    viewer_account,
)
from fedinode.api.params import ctx_of, json_response, path_id, read_params
from fedinode.errors import Forbidden, NotFoundError, Unauthorized
from fedinode.mail import poke_mail
from fedinode.services import admin as admin_svc
from fedinode.services import oauth
from fedinode.services import registrations as svc
from fedinode.services.passwords import cost_from_config
from storage.ids import now_ms
from storage.signups import Invite


@require_scopes("write:accounts", user=False)
async def create_account(request: web.Request) -> web.Response:
    """Mastodon's sign-up with an app token; answers a token for the new user (which works
    once the user is confirmed and approved, as Mastodon's does)."""
    who = principal(request)
    if who.app_id is None:
        raise Forbidden("This method requires an app token")
    ctx = ctx_of(request)
    params = await read_params(request)
    form = svc.SignUp(
        username=(params.str("username") or "").strip(),
        email=(params.str("email") or "").strip(),
        password=params.str("password") or "",
        agreement=params.bool("agreement"),
        locale=params.str("locale") or "",
        reason=params.str("reason") or "",
        invite_code=(params.str("invite_code") or "").strip(),
    )
    try:
        user = await svc.sign_up(ctx, form, cost_from_config(ctx.config.passwords))
    except svc.SignUpInvalid as exc:
        return json_response(schemas.validation_error_to_api(exc.message, exc.details), status=422)
    poke_mail(request.app)
    app = await ctx.store.oauth.get_app(who.app_id)
    if app is None:
        raise Unauthorized("The access token is invalid")
    raw, token = await oauth.issue_token(ctx.store, app, user.id, app.scopes.split())
    return json_response(schemas.token_to_api(raw, token))


async def resend_confirmation(request: web.Request) -> web.Response:
    """Mastodon's POST /api/v1/emails/confirmations: the unconfirmed user's own token (from
    the sign-up) is accepted here, though every other method refuses it."""
    raw = bearer_token(request)
    found = None if raw is None else await request.app[appkeys.STORE].oauth.bearer(raw)
    if found is None:
        raise Unauthorized("The access token is invalid")
    token, user, _account = found
    if user is None:
        raise Unauthorized("The access token is invalid")
    if not scope_covers(parse_scopes(token.scopes), "write:accounts"):
        raise Forbidden("This action is outside the authorized scopes")
    ctx = ctx_of(request)
    params = await read_params(request)
    await svc.resend_confirmation(ctx, user, (params.str("email") or "").strip() or None)
    poke_mail(request.app)
    return json_response(schemas.empty_to_api())


# -- admin: invites ------------------------------------------------------------------------


def invite_to_api(invite: Invite, base_url: str) -> dict[str, object]:
    return {
        "id": str(invite.id),
        "code": invite.code,
        "url": f"{base_url}/invite/{invite.code}",
        "comment": invite.comment,
        "max_uses": invite.max_uses,
        "uses": invite.uses,
        "expires_at": schemas.iso(invite.expires_at),
        "revoked": invite.revoked_at is not None,
        "usable": invite.usable(now_ms()),
        "created_at": schemas.iso(invite.created_at),
        "created_by_account_id": None if invite.created_by is None else str(invite.created_by),
    }


@require_scopes("admin:write:accounts")
async def create_invite(request: web.Request) -> web.Response:
    admin_svc.require_admin(principal(request).user)
    ctx = ctx_of(request)
    params = await read_params(request)
    invite = await svc.create_invite(
        ctx,
        viewer_account(request).id,
        max_uses=params.int("max_uses"),
        expires_in=params.int("expires_in"),
        comment=params.str("comment") or "",
    )
    return json_response(invite_to_api(invite, ctx.config.base_url))


@require_scopes("admin:read:accounts")
async def list_invites(request: web.Request) -> web.Response:
    admin_svc.require_admin(principal(request).user)
    ctx = ctx_of(request)
    params = await read_params(request)
    invites = await ctx.store.invites.all(include_revoked=params.bool("include_revoked"))
    return json_response([invite_to_api(i, ctx.config.base_url) for i in invites])


@require_scopes("admin:read:accounts")
async def get_invite(request: web.Request) -> web.Response:
    admin_svc.require_admin(principal(request).user)
    ctx = ctx_of(request)
    invite = await ctx.store.invites.get(path_id(request))
    if invite is None:
        raise NotFoundError()
    return json_response(invite_to_api(invite, ctx.config.base_url))


@require_scopes("admin:write:accounts")
async def revoke_invite(request: web.Request) -> web.Response:
    admin_svc.require_admin(principal(request).user)
    ctx = ctx_of(request)
    invite = await ctx.store.invites.revoke(path_id(request))
    if invite is None:
        raise NotFoundError()
    return json_response(invite_to_api(invite, ctx.config.base_url))
