"""Request parameters as Mastodon apps send them, and Link-header paging.

Apps send the same parameters as a query string, an urlencoded or multipart form, or a
JSON body, with Rails-style nesting: ``media_ids[]=1&media_ids[]=2``,
``poll[options][]=a``, ``fields_attributes[0][name]=x``, ``source[privacy]=public``.
``read_params`` turns all of them into one nested ``Params`` view, parsed once per request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_request import FileField
from multidict import MultiMapping

from fedinode import appkeys
from fedinode.errors import ApiError, NotFoundError, ValidationFailed
from fedinode.federation import federator_of
from fedinode.services.context import Ctx
from storage.ids import parse_id
from storage.paging import Page

_KEY_PART = re.compile(r"\[([^\]]*)\]")
_TRUE = frozenset({"1", "true", "t", "on", "yes"})
_FALSE = frozenset({"0", "false", "f", "off", "no", ""})
_PAGING_KEYS = frozenset({"max_id", "min_id", "since_id"})
# Counts, durations and offsets: Mastodon keeps them in 32-bit columns, and nothing larger
# survives time arithmetic and the database (a BIGINT holds milliseconds up to ~2^53 s).
MAX_INT = 2**31 - 1
# What aiohttp's form and multipart readers raise on a body that is not what its
# Content-Type says (no boundary, a bad charset, a truncated part, an unnamed field…).
_BODY_ERRORS = (
    ValueError,
    LookupError,
    RuntimeError,
    AssertionError,
    TypeError,
    HttpProcessingError,
)


def _split_key(key: str) -> list[str]:
    """``poll[options][]`` → ``["poll", "options", ""]``."""
    head, bracket, rest = key.partition("[")
    if not bracket:
        return [key]
    return [head, *_KEY_PART.findall("[" + rest)]


def _insert(target: dict[str, Any], parts: list[str], value: Any) -> None:
    node: Any = target
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = None if last else parts[i + 1]
        if isinstance(node, list):
            # ``a[][b]`` style: start a new element when the key repeats.
            if last:
                node.append(value)
                return
            if not node or not isinstance(node[-1], dict) or (nxt in node[-1]):
                node.append({})
            node = node[-1]
            continue
        if last:
            if part == "":
                return
            existing = node.get(part)
            if isinstance(existing, list):
                existing.append(value)
            else:
                node[part] = value
            return
        want_list = nxt == ""
        child = node.get(part)
        if want_list and not isinstance(child, list):
            child = node[part] = [] if child is None else [child]
        elif not want_list and not isinstance(child, dict | list):
            child = node[part] = {}
        node = child


def nest(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Flat ``(key, value)`` pairs with Rails-style keys → a nested dict."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        _insert(out, _split_key(key), value)
    return out


_str = str
_int = int
_bool = bool
_list = list


class Params:
    """Typed access to merged request parameters; body values win over the query."""

    __slots__ = ("data",)

    def __init__(self, data: Mapping[_str, Any]) -> None:
        self.data: dict[_str, Any] = dict(data)

    def __contains__(self, name: _str) -> _bool:
        return name in self.data

    def raw(self, name: _str) -> Any:
        return self.data.get(name)

    def sub(self, name: _str) -> Params:
        value = self.data.get(name)
        return Params(value if isinstance(value, dict) else {})

    def str(self, name: _str, default: _str | None = None) -> _str | None:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, list):
            value = value[-1] if value else default
            if value is None:
                return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, dict | FileField):
            raise ValidationFailed(f"Validation failed: {name} must be a string")
        return str(value)

    def required_str(self, name: _str) -> _str:
        value = self.str(name)
        if value is None:
            raise ValidationFailed(f"Missing parameter: {name}")
        return value

    def int(self, name: _str, default: _int | None = None) -> _int | None:
        """A number within ±``MAX_INT``; anything else (``1e999``, ``[1]``, ``²``) is a 422."""
        value = self.data.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return int(value)
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            raise ValidationFailed(f"Validation failed: {name} must be a number") from None
        if not -MAX_INT <= number <= MAX_INT:
            raise ValidationFailed(f"Validation failed: {name} is out of range")
        return number

    def id(self, name: _str) -> _int | None:
        """An id parameter; absent or empty is no id, anything but an id (``-1``, ``abc``,
        one past 2^63) is a 422 rather than a query the database cannot run."""
        value = self.data.get(name)
        if value is None or value == "":
            return None
        ident = parse_id(value)
        if ident is None:
            raise ValidationFailed(f"Validation failed: {name} is not a valid id")
        return ident

    def bool(self, name: _str, default: _bool = False) -> _bool:
        value = self.data.get(name)
        if value is None:
            return default
        return to_bool(value, default)

    def opt_bool(self, name: _str) -> _bool | None:
        if name not in self.data or self.data[name] is None:
            return None
        return to_bool(self.data[name], False)

    def list(self, name: _str) -> _list[Any]:
        """A list parameter: ``a[]=1&a[]=2``, ``a=1``, JSON arrays or ``a[0]=x&a[1]=y``."""
        value = self.data.get(name)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        if isinstance(value, dict):
            try:
                keys = sorted(value, key=int)
            except ValueError:
                return [value]
            return [value[k] for k in keys]
        return [value]

    def str_list(self, name: _str) -> _list[_str]:
        out = []
        for item in self.list(name):
            if isinstance(item, str | _int | float) and not isinstance(item, bool):
                out.append(str(item))
        return out

    def id_list(self, name: _str) -> _list[_int]:
        """``id[]=1&id[]=2``; empty items are skipped, any other non-id is a 422."""
        out = []
        for item in self.list(name):
            if item is None or item == "":
                continue
            ident = parse_id(item)
            if ident is None:
                raise ValidationFailed(f"Validation failed: {name} is not a list of ids")
            out.append(ident)
        return out

    def file(self, name: _str) -> FileField | None:
        value = self.data.get(name)
        return value if isinstance(value, FileField) else None


_PARAMS_KEY: web.RequestKey[Params] = web.RequestKey("fedinode.params")


def path_id(request: web.Request, name: str = "id") -> int:
    """The id in the path; one that cannot name a row (``-1``, ``abc``, past 2^63) is the
    404 ``Record not found`` Mastodon gives for any unknown id."""
    ident = parse_id(request.match_info.get(name, ""))
    if ident is None:
        raise NotFoundError()
    return ident


def to_bool(value: Any, default: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return default


def has_nul(value: Any) -> bool:
    """Whether a NUL character hides in a parameter, a key or a nested value (iteratively:
    a JSON body may nest deeper than Python recurses). No name, id or text of ours holds
    one, and PostgreSQL's text cannot store one."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, FileField):
            stack.extend((item.name, item.filename))
    return False


def _multi_pairs(multi: MultiMapping[Any]) -> list[tuple[str, Any]]:
    return [(str(k), v) for k, v in multi.items()]


async def _read_small_body(request: web.Request) -> None:
    """Refuse a body that is not an upload beyond ``[server] max_body_bytes`` (413): the
    app-wide cap is the media cap, so JSON and forms need their own."""
    cap = request.app[appkeys.CONFIG].server.max_body_bytes
    if request.content_length is not None and request.content_length > cap:
        raise ApiError(f"Request body too large (the limit is {cap} bytes)", 413)
    if len(await request.read()) > cap:  # chunked: read (up to the app cap), then judge
        raise ApiError(f"Request body too large (the limit is {cap} bytes)", 413)


async def read_params(request: web.Request) -> Params:
    """Query, form, multipart or JSON parameters, merged and nested; parsed once per request."""
    if _PARAMS_KEY in request:
        return request[_PARAMS_KEY]
    data = nest(_multi_pairs(request.query))
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.can_read_body:
        ctype = request.content_type
        if ctype != "multipart/form-data":
            await _read_small_body(request)  # only uploads may be as large as media
        if ctype == "application/json" or ctype.endswith("+json"):
            raw = await request.read()
            if raw.strip():
                try:
                    body = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    raise ApiError("Invalid JSON in request body", 400) from None
                if not isinstance(body, dict):
                    raise ApiError("The request body must be a JSON object", 400)
                data.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                form = await request.post()
            except _BODY_ERRORS:
                raise ApiError(f"Malformed {ctype} body", 400) from None
            data.update(nest(_multi_pairs(form)))
        else:
            # Some clients omit the content type on a form body; try it as a form.
            raw = await request.read()
            if raw.strip().startswith(b"{"):
                try:
                    body = orjson.loads(raw)
                    if isinstance(body, dict):
                        data.update(body)
                except orjson.JSONDecodeError:
                    pass
            elif raw:
                from urllib.parse import parse_qsl

                data.update(nest(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)))
    if has_nul(data):
        raise ApiError("Parameters must not contain null bytes", 400)
    params = Params(data)
    request[_PARAMS_KEY] = params
    return params


# -- paging -----------------------------------------------------------------------------


def page_from(params: Params, *, default_limit: int = 20, max_limit: int = 40) -> Page:
    limit = params.int("limit", default_limit) or default_limit
    limit = max(1, min(limit, max_limit))
    return Page(
        max_id=params.id("max_id"),
        since_id=params.id("since_id"),
        min_id=params.id("min_id"),
        limit=limit,
    )


def link_header(
    request: web.Request, ids: Sequence[int], page: Page, *, always_next: bool = False
) -> dict[str, str]:
    """``Link: <…?max_id=oldest>; rel="next", <…?min_id=newest>; rel="prev"`` for a page.

    ``ids`` are the paging keys of the returned rows, newest first. ``next`` is offered
    when the page is full (more may follow), ``prev`` whenever the page has rows.
    """
    if not ids:
        return {}
    base = request.app[appkeys.CONFIG].base_url + request.path + "?"
    query = request.query_string
    kept = _kept_query.get(query)
    if kept is None:
        kept = urlencode([(k, v) for k, v in request.query.items() if k not in _PAGING_KEYS])
        kept += "&" if kept else ""
        if len(_kept_query) >= _KEPT_QUERY_LIMIT:
            _kept_query.clear()
        _kept_query[query] = kept
    # An id is digits: urlencode would leave it as it is.
    prev = f'<{base}{kept}min_id={ids[0]}>; rel="prev"'
    if always_next or len(ids) >= page.limit:
        return {"Link": f'<{base}{kept}max_id={ids[-1]}>; rel="next", {prev}'}
    return {"Link": prev}


# The query strings pages were asked with, urlencoded again without their paging keys (and
# with a trailing "&" when anything is left): clients page with the same few.
_kept_query: dict[str, str] = {}
_KEPT_QUERY_LIMIT = 256


# -- responses --------------------------------------------------------------------------


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=orjson.dumps(data),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def ctx_of(request: web.Request) -> Ctx:
    """The services' view of the application, for this request."""
    app = request.app
    return Ctx(
        store=app[appkeys.STORE],
        config=app[appkeys.CONFIG],
        urls=app[appkeys.URLS],
        federation=federator_of(app),
        policy=app.get(appkeys.POLICY),
    )


def paged_response(request: web.Request, data: Any, ids: Sequence[int], page: Page) -> web.Response:
    return json_response(data, headers=link_header(request, ids, page))


def paged_json_response(
    request: web.Request, body: bytes, ids: Sequence[int], page: Page
) -> web.Response:
    """``paged_response`` for a body already encoded as JSON."""
    return web.Response(
        body=body, content_type="application/json", headers=link_header(request, ids, page)
    )
