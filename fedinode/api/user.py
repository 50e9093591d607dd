"""GoToSocial's ``/api/v1/user`` endpoints for apps: changing one's own password."""

from __future__ import annotations

from aiohttp import web

from fedinode import appkeys
from fedinode.api import schemas
from fedinode.api.auth import principal, require_scopes
from fedinode.api.params import json_response, read_params
from fedinode.errors import ApiError, Unauthorized
from fedinode.services import users
from fedinode.services.passwords import cost_from_config


@require_scopes("write:accounts")
async def password_change(request: web.Request) -> web.Response:
    """POST /api/v1/user/password_change: ``old_password`` and ``new_password`` (form or
    JSON). This token stays signed in; the user's other tokens are revoked."""
    params = await read_params(request)
    old, new = params.str("old_password") or "", params.str("new_password") or ""
    for name, value in (("old_password", old), ("new_password", new)):
        if not value:
            # GoToSocial answers 400 for a missing field (and 422 with Mastodon's wording
            # below for a wrong or unfit password: a 401 would sign the app out).
            raise ApiError(f"password change request missing field {name}", 400)
    who = principal(request)
    if who.user is None:
        raise Unauthorized("This method requires an authenticated user")
    await users.change_password(
        request.app[appkeys.STORE],
        who.user,
        old_password=old,
        new_password=new,
        cost=cost_from_config(request.app[appkeys.CONFIG].passwords),
        keep_token_id=who.token.id,
    )
    return json_response(schemas.status_ok_to_api())  # GoToSocial's body
