"""OAuth 2 endpoints: /oauth/authorize (HTML), /oauth/token, /oauth/revoke, server metadata."""

from __future__ import annotations

import base64
from urllib.parse import urlencode, urlsplit, urlunsplit

from aiohttp import web

from fedinode import appkeys
from fedinode.api import schemas
from fedinode.api.auth import TOP_SCOPES, parse_scopes
from fedinode.api.params import Params, json_response, read_params
from fedinode.services import oauth
from fedinode.services.oauth import AuthorizeRequest, OAuthError
from fedinode.services.passwords import cost_from_config
from fedinode.web import oauth_page


def _oauth_error(exc: OAuthError) -> web.Response:
    headers = {"Cache-Control": "no-store"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="fedinode"'
    return json_response(
        schemas.oauth_error_to_api(exc.error, exc.description), status=exc.status, headers=headers
    )


def _authorize_request(params: Params) -> AuthorizeRequest:
    return AuthorizeRequest(
        client_id=params.str("client_id") or "",
        redirect_uri=params.str("redirect_uri") or "",
        scopes=tuple(parse_scopes(params.str("scope") or params.str("scopes"))),
        state=params.str("state") or "",
        code_challenge=params.str("code_challenge") or "",
        code_challenge_method=params.str("code_challenge_method") or "",
    )


def _with_query(uri: str, extra: dict[str, str]) -> str:
    parts = urlsplit(uri)
    query = parts.query + ("&" if parts.query else "") + urlencode(extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


async def _validated(
    request: web.Request, params: Params
) -> tuple[AuthorizeRequest, str, str | None]:
    """The authorization request, the app's name and website; raises OAuthError."""
    store = request.app[appkeys.STORE]
    req = _authorize_request(params)
    response_type = params.str("response_type") or "code"
    if response_type != "code":
        raise OAuthError(
            "unsupported_response_type",
            "The authorization server does not support this response type.",
        )
    app = await oauth.app_for_authorize(store, req.client_id, req.redirect_uri)
    scopes = oauth.resolve_scopes(app, list(req.scopes))
    oauth.response_mode(params.str("response_mode") or "")
    req = AuthorizeRequest(
        client_id=req.client_id,
        redirect_uri=req.redirect_uri,
        scopes=tuple(scopes),
        state=req.state,
        code_challenge=req.code_challenge,
        code_challenge_method=oauth.pkce_method(req.code_challenge, req.code_challenge_method),
    )
    return req, app.name, app.website


def _hidden(req: AuthorizeRequest, form_token: str) -> dict[str, str]:
    return {
        "client_id": req.client_id,
        "redirect_uri": req.redirect_uri,
        "scope": " ".join(req.scopes),
        "state": req.state,
        "code_challenge": req.code_challenge,
        "code_challenge_method": req.code_challenge_method,
        "response_type": "code",
        "authenticity_token": form_token,
    }


async def authorize_form(request: web.Request) -> web.Response:
    """GET /oauth/authorize: the login and consent page."""
    params = await read_params(request)
    try:
        req, name, website = await _validated(request, params)
    except OAuthError as exc:
        return await oauth_page.error_page(
            request, title="Authorization failed", message=exc.description, status=400
        )
    token = await oauth.sign_form(request.app[appkeys.STORE], req)
    return await oauth_page.authorize_page(
        request, app_name=name, app_website=website, scopes=req.scopes, hidden=_hidden(req, token)
    )


async def authorize_submit(request: web.Request) -> web.StreamResponse:
    """POST /oauth/authorize: check the form token and the login, then redirect with a code."""
    params = await read_params(request)
    store = request.app[appkeys.STORE]
    config = request.app[appkeys.CONFIG]
    try:
        req, name, website = await _validated(request, params)
    except OAuthError as exc:
        return await oauth_page.error_page(
            request, title="Authorization failed", message=exc.description, status=400
        )
    if not await oauth.verify_form(store, req, params.str("authenticity_token") or ""):
        return await oauth_page.error_page(
            request,
            title="Authorization failed",
            message="The form expired or was tampered with; go back to the app and start again.",
            status=403,
        )
    if params.str("decision") == "deny":
        if req.redirect_uri == oauth.OOB:
            return await oauth_page.error_page(
                request, title="Authorization denied", message="You denied access."
            )
        extra = {
            "error": "access_denied",
            "error_description": "The resource owner denied the request.",
        }
        if req.state:
            extra["state"] = req.state
        raise web.HTTPFound(_with_query(req.redirect_uri, extra))
    login = params.str("login") or params.str("username") or ""
    user, refused = await oauth.login_outcome(
        store, login, params.str("password") or "", cost_from_config(config.passwords)
    )
    if user is None:
        return await oauth_page.authorize_page(
            request,
            app_name=name,
            app_website=website,
            scopes=req.scopes,
            hidden=_hidden(req, await oauth.sign_form(store, req)),
            error=refused,
            login=login,
            status=422,
        )
    app = await oauth.app_for_authorize(store, req.client_id, req.redirect_uri)
    code = await oauth.create_code(
        store,
        app,
        user,
        redirect_uri=req.redirect_uri,
        scopes=list(req.scopes),
        code_challenge=req.code_challenge or None,
        code_challenge_method=req.code_challenge_method or None,
    )
    if req.redirect_uri == oauth.OOB:
        return await oauth_page.code_page(request, app_name=name, code=code)
    extra = {"code": code}
    if req.state:
        extra["state"] = req.state
    raise web.HTTPFound(_with_query(req.redirect_uri, extra))


def _client_credentials(request: web.Request, params: Params) -> tuple[str | None, str | None]:
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
            cid, _, secret = decoded.partition(":")
            from urllib.parse import unquote

            return unquote(cid), unquote(secret)
        except (ValueError, UnicodeDecodeError):
            return None, None
    return params.str("client_id"), params.str("client_secret")


async def token(request: web.Request) -> web.Response:
    """POST /oauth/token: authorization_code (+PKCE), password, client_credentials."""
    params = await read_params(request)
    store = request.app[appkeys.STORE]
    grant = params.str("grant_type") or ""
    try:
        if grant not in ("authorization_code", "password", "client_credentials"):
            raise OAuthError(
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            )
        client_id, client_secret = _client_credentials(request, params)
        app = await oauth.authenticate_client(store, client_id, client_secret)
        scopes = parse_scopes(params.str("scope") or params.str("scopes"))
        if grant == "authorization_code":
            code = params.str("code")
            if not code:
                raise OAuthError("invalid_request", "Missing required parameter: code.")
            raw, tok = await oauth.exchange_code(
                store,
                app,
                code=code,
                redirect_uri=params.str("redirect_uri"),
                code_verifier=params.str("code_verifier"),
            )
        elif grant == "password":
            raw, tok = await oauth.password_grant(
                store,
                app,
                login=params.str("username") or params.str("email") or "",
                password=params.str("password") or "",
                scopes=scopes,
                cost=cost_from_config(request.app[appkeys.CONFIG].passwords),
            )
        else:
            raw, tok = await oauth.client_credentials_grant(store, app, scopes)
    except OAuthError as exc:
        return _oauth_error(exc)
    return json_response(schemas.token_to_api(raw, tok), headers={"Cache-Control": "no-store"})


async def revoke(request: web.Request) -> web.Response:
    params = await read_params(request)
    store = request.app[appkeys.STORE]
    try:
        client_id, client_secret = _client_credentials(request, params)
        app = await oauth.authenticate_client(store, client_id, client_secret)
    except OAuthError as exc:
        return _oauth_error(exc)
    raw = params.str("token")
    if raw:
        await oauth.revoke(store, app, raw)
    return json_response({})


async def authorization_server_metadata(request: web.Request) -> web.Response:
    from fedinode.api.auth import KNOWN_SCOPES

    scopes = sorted(TOP_SCOPES) + sorted(KNOWN_SCOPES - TOP_SCOPES)
    return json_response(
        schemas.oauth_metadata_to_api(
            request.app[appkeys.CONFIG].base_url,
            scopes,
            response_modes=list(oauth.RESPONSE_MODES),
            pkce_methods=list(oauth.PKCE_METHODS),
        )
    )
