"""OAuth 2 endpoints: /oauth/authorize (HTML), /oauth/token, /oauth/revoke, server metadata.

/oauth/authorize in a browser logged in to this server asks only for consent (as Mastodon
does; ``force_login=true`` asks for a login anyway); elsewhere it asks for the login, and a
login there (with its two-factor code) logs that browser in to the web pages as well, when
the form carries the browser's CSRF token (``fedinode.web.csrf``)."""

from __future__ import annotations

import base64
from urllib.parse import urlencode, urlsplit, urlunsplit

from aiohttp import web

from fedinode import appkeys
from fedinode.api import schemas
from fedinode.api.auth import TOP_SCOPES, parse_scopes
from fedinode.api.params import Params, json_response, read_params
from fedinode.services import oauth, two_factor
from fedinode.services.oauth import AuthorizeRequest, OAuthError
from fedinode.services.passwords import cost_from_config
from fedinode.web import csrf, oauth_page, sessions
from fedinode.web.sign_in import ASK_CODE, WRONG_CODE
from storage.models import User


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


def _parameters(req: AuthorizeRequest) -> dict[str, str]:
    """This authorization request's parameters, as its page and its forms carry them."""
    return {
        "response_type": "code",
        "client_id": req.client_id,
        "redirect_uri": req.redirect_uri,
        "scope": " ".join(req.scopes),
        "state": req.state,
        "code_challenge": req.code_challenge,
        "code_challenge_method": req.code_challenge_method,
    }


def _hidden(req: AuthorizeRequest, form_token: str) -> dict[str, str]:
    return {**_parameters(req), "authenticity_token": form_token}


def _authorize_url(req: AuthorizeRequest, **extra: str) -> str:
    """This authorization request as a link to its page (``extra``: more parameters)."""
    query = {**_parameters(req), **extra}
    return "/oauth/authorize?" + urlencode({k: v for k, v in query.items() if v})


async def _signed_in(request: web.Request) -> tuple[User, str] | None:
    """The user this browser is logged in as (a web session) and their username."""
    user = await sessions.viewer(request)
    if user is None or user.confirmed_at is None:
        return None
    account = await request.app[appkeys.STORE].accounts.get(user.account_id)
    return None if account is None else (user, account.username)


async def _page(
    request: web.Request,
    req: AuthorizeRequest,
    name: str,
    website: str | None,
    *,
    account: str = "",
    error: str | None = None,
    login: str = "",
    ask_otp: bool = False,
    status: int = 200,
) -> web.Response:
    token = await oauth.sign_form(request.app[appkeys.STORE], req)
    return await oauth_page.authorize_page(
        request,
        app_name=name,
        app_website=website,
        scopes=req.scopes,
        hidden=_hidden(req, token),
        error=error,
        login=login,
        ask_otp=ask_otp,
        account=account,
        other_account_url=_authorize_url(req, force_login="true") if account else "",
        status=status,
    )


async def authorize_form(request: web.Request) -> web.Response:
    """GET /oauth/authorize: the consent page, with the login form unless logged in."""
    params = await read_params(request)
    try:
        req, name, website = await _validated(request, params)
    except OAuthError as exc:
        return await oauth_page.error_page(
            request, title="Authorization failed", message=exc.description, status=400
        )
    force_login = (params.str("force_login") or "").lower() in ("true", "1")
    signed_in = None if force_login else await _signed_in(request)
    account = signed_in[1] if signed_in else ""
    return await _page(request, req, name, website, account=account)


async def authorize_submit(request: web.Request) -> web.StreamResponse:
    """POST /oauth/authorize: check the form token and the login (or the browser's session
    and its CSRF token), then redirect with a code."""
    params = await read_params(request)
    store = request.app[appkeys.STORE]
    config = request.app[appkeys.CONFIG]
    try:
        req, name, website = await _validated(request, params)
    except OAuthError as exc:
        return await oauth_page.error_page(
            request, title="Authorization failed", message=exc.description, status=400
        )
    by_session = params.str("consent") == "session"
    if by_session and not await csrf.verify(request, params):
        return await oauth_page.error_page(
            request, title="Authorization failed", message=csrf.EXPIRED, status=403
        )
    if not await oauth.verify_form(store, req, params.str("authenticity_token") or ""):
        return await oauth_page.error_page(
            request,
            title="Authorization failed",
            message="The form expired or was tampered with; go back to the app and start again.",
            status=403,
        )
    decision = params.str("decision")
    if decision == "deny":
        return await _deny(request, req)
    if by_session:
        if decision == "sign_out":
            # Not this account: log out, and the same request asks for a login.
            response = web.HTTPSeeOther(_authorize_url(req))
            await sessions.log_out(request, response)
            raise response
        signed_in = await _signed_in(request)
        if signed_in is None:
            return await _page(request, req, name, website, error=oauth_page.SESSION_ENDED)
        return await _grant(request, req, name, signed_in[0])
    login = params.str("login") or params.str("username") or ""
    user, refused = await oauth.login_outcome(
        store, login, params.str("password") or "", cost_from_config(config.passwords)
    )
    ask_otp = False
    if user is not None and await two_factor.enabled(store, user):
        # The code travels with the password in the same form; without it, or with a wrong
        # one, the page asks again (for both: a code alone must not confirm a password).
        ask_otp = True
        otp = params.str("otp") or ""
        if not otp or not await two_factor.check(store, user, otp):
            user, refused = None, (WRONG_CODE if otp else ASK_CODE)
    if user is None:
        return await _page(
            request, req, name, website, error=refused, login=login, ask_otp=ask_otp, status=422
        )
    # A login from our own form (bound to this browser by its CSRF token) is also a web
    # login, as on Mastodon; a form posted without it (a script, another site) gets its code
    # but plants no session in the browser that sent it.
    web_login = await csrf.verify(request, params)
    return await _grant(request, req, name, user, web_login=web_login)


async def _deny(request: web.Request, req: AuthorizeRequest) -> web.Response:
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


async def _grant(
    request: web.Request, req: AuthorizeRequest, name: str, user: User, *, web_login: bool = False
) -> web.Response:
    """A code for ``user``: shown (out of band) or sent to the app's redirect URI; with
    ``web_login``, this browser is logged in as ``user`` too (a new web session)."""
    store = request.app[appkeys.STORE]
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
        page = await oauth_page.code_page(request, app_name=name, code=code)
        if web_login:
            await sessions.log_in(request, page, user)
        return page
    extra = {"code": code}
    if req.state:
        extra["state"] = req.state
    response = web.HTTPFound(_with_query(req.redirect_uri, extra))
    if web_login:
        await sessions.log_in(request, response, user)
    raise response


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
