"""POST /api/v1/apps and GET /api/v1/apps/verify_credentials."""

from __future__ import annotations

from aiohttp import web

from fedinode import appkeys
from fedinode.api import schemas
from fedinode.api.auth import authenticated, parse_scopes, principal
from fedinode.api.params import json_response, read_params
from fedinode.errors import Unauthorized
from fedinode.services import oauth


async def create_app(request: web.Request) -> web.Response:
    params = await read_params(request)
    raw_uris = params.raw("redirect_uris")
    app, secret = await oauth.register_app(
        request.app[appkeys.STORE],
        name=params.str("client_name") or "",
        redirect_uris=oauth.split_redirect_uris(
            [str(u) for u in raw_uris]
            if isinstance(raw_uris, list)
            else params.str("redirect_uris")
        ),
        scopes=parse_scopes(
            params.str_list("scopes")
            if isinstance(params.raw("scopes"), list)
            else params.str("scopes")
        ),
        website=params.str("website"),
    )
    vapid = request.app[appkeys.VAPID].public_key
    return json_response(schemas.application_to_api(app, vapid_key=vapid, client_secret=secret))


@authenticated(user=False)
async def verify_app_credentials(request: web.Request) -> web.Response:
    who = principal(request)
    if who.app_id is None:
        raise Unauthorized("The access token is invalid")
    app = await request.app[appkeys.STORE].oauth.get_app(who.app_id)
    if app is None:
        raise Unauthorized("The access token is invalid")
    vapid = request.app[appkeys.VAPID].public_key
    return json_response(schemas.application_to_api(app, vapid_key=vapid))
