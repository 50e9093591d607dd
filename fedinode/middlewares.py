"""The one error middleware (safe messages out, detail in the log) and request ids."""

from __future__ import annotations

import contextvars
import logging
import random
from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from activitypub.errors import ActivityPubError
from fedinode.api import schemas
from fedinode.errors import ApiError
from storage.errors import Conflict, NotFound

log = logging.getLogger("fedinode.http")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID = web.RequestKey("fedinode.request_id", str)
# The same id while the request is handled, for log lines written on its behalf.
CURRENT_REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar(
    "fedinode_request_id", default=""
)


def error_response(status: int, message: str) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps(schemas.error_to_api(message)),
        content_type="application/json",
    )


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Not a secret: the random module (reseeded in forked children) spares a syscall per request.
    rid = request.headers.get("X-Request-Id", "")[:64] or f"{random.getrandbits(64):016x}"
    request[REQUEST_ID] = rid
    token = CURRENT_REQUEST_ID.set(rid)
    try:
        response = await handler(request)
    finally:
        CURRENT_REQUEST_ID.reset(token)
    if not response.prepared:
        response.headers["X-Request-Id"] = rid
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        if "\x00" in request.path or "\x00" in request.query_string:
            # No name or id of ours holds a NUL, and PostgreSQL's text cannot store one.
            raise ApiError("The request must not contain null bytes", 400)
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message)
    except ActivityPubError as exc:
        log.info("activitypub %s %s → %s: %s", request.method, request.path, exc.status, exc)
        return error_response(exc.status, exc.reason)
    except NotFound:
        return error_response(404, "Record not found")
    except Conflict as exc:
        return error_response(422, f"Validation failed: {exc}")
    except web.HTTPRedirection:
        raise
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        if exc.content_type == "application/json":
            raise
        message = exc.reason
        if exc.status == 413:
            message = "Request body too large"
        response = error_response(exc.status, message)
        for name in ("Allow", "WWW-Authenticate", "Retry-After"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except Exception:
        log.exception(
            "unhandled error on %s %s (request %s)",
            request.method,
            request.path,
            request.get(REQUEST_ID),
        )
        return error_response(500, "Internal server error")
