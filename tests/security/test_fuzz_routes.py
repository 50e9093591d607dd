"""No request shape makes a 5xx: the whole route table, walked with hostile input.

A real application (``create_app``) on each backend, its route table read from the router
(so a route added tomorrow is fuzzed tomorrow), and for every route: hostile path segments
(ids past 2^63, negative, Unicode digits, ``..``, broken percent-encoding, empty), query
parameters (Rails-style keys, huge numbers, arrays where scalars belong), bodies (JSON,
forms, multipart with and without a boundary, garbage bytes under any content type) and
headers (bad ``Authorization``, ``Content-Type``, ``Idempotency-Key``, signatures), with no
token, a garbage one, or a valid admin token holding every scope. Besides the hypothesis
walk, a table pins the shapes that used to answer 500 and the answers Mastodon gives them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from aiohttp import ClientSession, ClientTimeout
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from security.rig import Actor, Api

ALL_SCOPES = "read write follow push profile admin:read admin:write"
_PLACEHOLDER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
# Placeholders that name a row by id: out-of-range values must read as "no such record".
_ID_PLACEHOLDERS = frozenset({"id", "account_id", "status_id"})

HOSTILE_IDS = [
    "99999999999999999999",
    "9223372036854775808",  # 2^63
    "9223372036854775807",  # 2^63 - 1, in range
    "18446744073709551616",  # 2^64
    "1" * 400,
    "-1",
    "-9223372036854775809",
    "0",
    "000000000000000000000000000001",
    "1e3",
    "0x10",
    "+5",
    "%201",
    "1.5",
    "%C2%B2",  # superscript two: str.isdigit() says yes, int() says no
    "%D9%A3",  # Arabic-Indic three
    "%EF%BC%91",  # fullwidth one
    "abc",
    "..",
    ".",
    "%2e%2e",
    "%2f",
    "%00",
    "%ff",
    "%",
    "%zz",
    "%D8%B3%D9%84%D8%A7%D9%85",  # سلام
    "%F0%9F%98%80",
    "a" * 2000,
    "null",
    "[]",
    "%7B%7D",
    "1;DROP%20TABLE%20statuses",
]
HOSTILE_VALUES = [
    "99999999999999999999",
    "9223372036854775808",
    "-9223372036854775809",
    "-1",
    "0",
    "1e999",
    "NaN",
    "Infinity",
    "\u00b2",
    "\u0663",
    "",
    " ",
    "true",
    "null",
    "x" * 3000,
    "\u0000",
    "سلام",
    "😀",
    "'; --",
    "http://[::1",
    "http://",
    "javascript:alert(1)",
    "urn:ietf:wg:oauth:2.0:oob",
    "acct:@",
    "acct:alice@",
    "@@@",
    "2026-13-45T99:99:99Z",
]
KEYS = [
    "id", "id[]", "ids[]", "max_id", "min_id", "since_id", "limit", "offset", "page",
    "media_ids[]", "media_ids", "account_id", "account_ids[]", "status_ids[]",
    "poll[options][]", "poll[expires_in]", "poll[multiple]", "poll", "in_reply_to_id",
    "status", "visibility", "scheduled_at", "language", "spoiler_text", "sensitive", "q",
    "type", "resolve", "following", "local", "remote", "only_media", "pinned",
    "exclude_replies", "tagged", "types[]", "exclude_types[]", "grant_type", "code",
    "client_id", "client_secret", "client_name", "redirect_uri", "redirect_uris",
    "redirect_uris[]", "scope", "scopes", "code_verifier", "code_challenge",
    "code_challenge_method", "response_type", "response_mode", "token", "username",
    "password", "email", "agreement", "locale", "reason", "title", "context[]",
    "keywords_attributes[][keyword]", "keywords_attributes[0][id]",
    "keywords_attributes[0][_destroy]", "fields_attributes[0][name]", "source[privacy]",
    "file", "thumbnail", "description", "focus", "home[last_read_id]",
    "notifications[last_read_id]", "choices[]", "comment", "rule_ids[]", "category",
    "forward", "severity", "domain", "action", "resource", "acct", "display_name", "note",
    "locked", "bot", "discoverable", "expires_in", "irreversible", "whole_word", "phrase",
    "filter_action", "replies_policy", "exclusive", "stream", "list", "tag",
    "grouped_types[]", "expand_accounts", "rel", "true", "a[b][c]", "a[][b]", "[]", "a[",
]  # fmt: skip
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=latin-9",
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=nope",
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=zzz",
    "multipart/mixed; boundary=x",
    "text/plain",
    'text/html; charset="',
    "application/octet-stream",
    "image/png",
    "",
    "garbage",
    ";",
    "*/*",
]
RAW_BODIES = [
    b"",
    b"{",
    b'{"a":',
    b"[1, 2]",
    b'"x"',
    b"null",
    b"1e999",
    b'{"max_id": 1e999}',
    b'{"limit": 99999999999999999999999999}',
    b'{"media_ids": [99999999999999999999]}',
    b'{"id": {"$gt": 1}}',
    b"\xff\xfe\x00",
    b"%ff=%fe&a=%",
    b"a[=1&]=2&a[][]=3&a[b]=4&a=5",
    b"--zzz\r\nContent-Disposition: form-data\r\n\r\nx\r\n--zzz--\r\n",
    b"--zzz\r\n\r\n",
    b"\x00" * 64,
]
AUTHORIZATIONS = [
    None,
    "VALID",
    "Bearer",
    "Bearer ",
    "Bearer garbage",
    "Bearer " + "a" * 5000,
    "Basic Zm9vOmJhcg==",
    "Token abc",
    "bearer VALID",
    "Bearer VALID extra",
    "Bearer \u00e9\u00e8",
]
IDEMPOTENCY_KEYS = [None, "", "x" * 10000, "\u00ff\u00fe", "key with spaces", "1"]
ACCEPTS = [
    None,
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "text/html",
    "*/*",
    "garbage;;q=x",
]
SIGNATURES = [
    None,
    "garbage",
    'keyId="",signature=""',
    'keyId="http://127.0.0.1:1/k",headers="(request-target) host date",signature="AAAA"',
    'keyId="https://local.test/users/nobody#main-key",signature="%%%"',
]


@dataclass(frozen=True)
class Route:
    method: str
    template: str

    @property
    def placeholders(self) -> list[str]:
        return _PLACEHOLDER.findall(self.template)

    def fill(self, values: dict[str, str]) -> str:
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.template)


@dataclass
class Request:
    method: str
    path_qs: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        shown = {k: (v[:60] + "…" if len(v) > 60 else v) for k, v in self.headers.items()}
        body = None if self.body is None else self.body[:120]
        return f"{self.method} {self.path_qs[:200]} headers={shown} body={body!r}"


def route_table(api: Api) -> list[Route]:
    """Every (method, path template) the application answers, from its router."""
    routes: set[Route] = set()
    for resource in api.client.app.router.resources():
        info = resource.get_info()
        template = info.get("formatter") or info.get("path")
        if not isinstance(template, str):
            continue
        for route in resource:
            methods = (
                ["GET", "POST", "PUT", "PATCH", "DELETE"] if route.method == "*" else [route.method]
            )
            routes.update(Route(m, template) for m in methods if m != "HEAD")
    return sorted(routes, key=lambda r: (r.template, r.method))


def _percent(text: str) -> str:
    return quote(text, safe="")


SEGMENTS = st.one_of(
    st.sampled_from(HOSTILE_IDS),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(max_size=12).map(_percent),
    st.just(""),
)
SCALARS = st.one_of(
    st.sampled_from(HOSTILE_VALUES),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.text(max_size=16),
)
KEY = st.one_of(st.sampled_from(KEYS), st.text(max_size=8))
PAIRS = st.lists(st.tuples(KEY, SCALARS), max_size=6)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEY, inner, max_size=3),
    max_leaves=10,
)


def _query(pairs: list[tuple[str, str]], raw_tail: str) -> str:
    encoded = urlencode(pairs, quote_via=quote)
    return "&".join(p for p in (encoded, raw_tail) if p)


def _multipart(parts: list[tuple[str, str, bool]], boundary: str = "fuzzboundary") -> bytes:
    out = b""
    for name, value, as_file in parts:
        disposition = f'form-data; name="{name}"'
        if as_file:
            disposition += '; filename="x.png"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if as_file:
            out += b"Content-Type: image/png\r\n"
        out += b"\r\n" + value.encode("utf-8", "replace") + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes | None, str | None]:
    """(body, content type); ``None`` content type: leave the header out."""
    kind = draw(st.sampled_from(["none", "json", "form", "multipart", "raw", "bytes"]))
    if kind == "none":
        return None, None
    if kind == "json":
        doc = draw(st.dictionaries(KEY, JSON_VALUES, max_size=6) | JSON_VALUES)
        return json.dumps(doc).encode(), draw(st.sampled_from(CONTENT_TYPES[:4]))
    if kind == "form":
        return urlencode(draw(PAIRS)).encode(), "application/x-www-form-urlencoded"
    if kind == "multipart":
        parts = draw(st.lists(st.tuples(KEY, SCALARS, st.booleans()), max_size=4))
        ctype = draw(
            st.sampled_from(
                [
                    "multipart/form-data; boundary=fuzzboundary",
                    "multipart/form-data",
                    "multipart/form-data; boundary=other",
                    'multipart/form-data; boundary=""',
                ]
            )
        )
        return _multipart(parts), ctype
    if kind == "raw":
        return draw(st.sampled_from(RAW_BODIES)), draw(st.sampled_from(CONTENT_TYPES))
    return draw(st.binary(max_size=200)), draw(st.sampled_from([*CONTENT_TYPES, None]))


@st.composite
def requests_for(draw: st.DrawFn, route: Route, token: str) -> Request:
    values = {name: draw(SEGMENTS) for name in route.placeholders}
    path = route.fill(values)
    query = _query(
        draw(PAIRS), draw(st.sampled_from(["", "%ff=%fe", "a[=1&a[b]=2&a=3", "&&=&", "max_id"]))
    )
    body, ctype = draw(bodies())
    headers: dict[str, str] = {}
    auth = draw(st.sampled_from(AUTHORIZATIONS))
    if auth == "VALID":
        headers["Authorization"] = f"Bearer {token}"
    elif auth is not None:
        headers["Authorization"] = auth.replace("VALID", token)
    if ctype is not None:
        headers["Content-Type"] = ctype
    for name, choices in (
        ("Idempotency-Key", IDEMPOTENCY_KEYS),
        ("Accept", ACCEPTS),
        ("Signature", SIGNATURES),
    ):
        value = draw(st.sampled_from(choices))
        if value is not None:
            headers[name] = value
    if draw(st.booleans()):
        headers["Date"] = draw(st.sampled_from(["garbage", "Thu, 01 Jan 1970 00:00:00 GMT", ""]))
        headers["Digest"] = draw(st.sampled_from(["SHA-256=AAAA", "garbage", "MD5=x"]))
    return Request(route.method, path + ("?" + query if query else ""), body, headers)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


async def send(session: ClientSession, base: str, request: Request) -> Answer:
    url = URL(base + request.path_qs, encoded=True)
    async with session.request(
        request.method,
        url,
        data=request.body,
        headers=request.headers,
        allow_redirects=False,
        skip_auto_headers=["Content-Type"],
    ) as resp:
        # Streams (server-sent events) never end: judge them by their status line.
        body = b"" if resp.content_type == "text/event-stream" else await resp.read()
        return Answer(resp.status, resp.content_type, body)


def _error_shape_problem(answer: Answer) -> str | None:
    """A client error with a JSON body must carry Mastodon's ``{"error": "..."}``."""
    if not 400 <= answer.status < 500 or answer.content_type != "application/json":
        return None
    try:
        doc = json.loads(answer.body)
    except ValueError:
        return "error body is not JSON"
    if not isinstance(doc, dict) or not isinstance(doc.get("error"), str):
        return f"error body without an error string: {answer.body[:200]!r}"
    return None


@dataclass(frozen=True)
class Target:
    """The application under test and a valid admin token holding every scope."""

    api: Api
    admin: Actor

    def __repr__(self) -> str:  # hypothesis prints it with every failing example
        return "Target(admin token)"

    @property
    def token(self) -> str:
        return self.admin.token

    @property
    def base(self) -> str:
        return str(self.api.client.make_url("")).rstrip("/")


@pytest.fixture
async def target(api: Api) -> Target:
    return Target(api, await api.user("fuzzadmin", scopes=ALL_SCOPES, admin=True))


async def _walk(target: Target, requests: list[Request]) -> list[str]:
    problems = []
    async with ClientSession(timeout=ClientTimeout(total=30)) as session:
        for request in requests:
            answer = await send(session, target.base, request)
            if answer.status >= 500:
                problems.append(f"{answer.status} {answer.body[:200]!r} ← {request.describe()}")
            elif (shape := _error_shape_problem(answer)) is not None:
                problems.append(f"{answer.status} {shape} ← {request.describe()}")
    return problems


def test_placeholders_are_read_from_templates() -> None:
    assert _PLACEHOLDER.findall(r"/a/{id:\d+}/b/{name}") == ["id", "name"]
    assert Route("GET", r"/a/{id:\d+}/b/{name}").fill({"id": "1", "name": "x"}) == "/a/1/b/x"


async def test_the_walk_covers_the_whole_table(target: Target) -> None:
    """Guard against a walk that silently covers nothing (the router API moving under us)."""
    table = route_table(target.api)
    templates = {r.template for r in table}
    assert len(table) > 250, len(table)
    for expected in ("/api/v1/accounts/{id}", "/inbox", "/.well-known/webfinger",
                     "/users/{username}/statuses/{status_id}", "/oauth/token",
                     "/api/v2/media", "/users/{username}/outbox"):  # fmt: skip
        assert expected in templates, expected


# -- the deterministic half: fixed hostile shapes, each sent to every route ----------------

_HUGE = "99999999999999999999"
_QUERY = f"max_id={_HUGE}&since_id=-1&min_id=abc&limit={_HUGE}&id[]={_HUGE}&page={_HUGE}"
_JSON_SHAPES = json.dumps({
    "status": ["a"], "media_ids": [_HUGE, -1], "in_reply_to_id": {"a": 1}, "limit": 1e300,
    "poll": "x", "id": [[]], "account_ids": "x", "expires_in": 10**30, "scopes": {"a": 1},
    "redirect_uris": ["http://[::1"], "choices": [10**30], "keywords_attributes": "k",
    "fields_attributes": [1, 2], "source": [], "title": None, "context": {"x": []},
    "grant_type": 7, "type": [], "resource": 1, "focus": "9e999,1", "max_id": _HUGE,
}).encode()  # fmt: skip
Shape = tuple[str, "str | None", str, "bytes | None", dict[str, str]]
# (path segment, Authorization ("VALID": the admin token), query, body, headers)
SHAPES: list[Shape] = [
    (_HUGE, None, _QUERY, None, {}),
    (_HUGE, "VALID", _QUERY, None, {}),
    ("-1", "VALID", "", _JSON_SHAPES, {"Content-Type": "application/json"}),
    ("%C2%B2", "VALID", "", b"--x\r\n\r\n--x--", {"Content-Type": "multipart/form-data"}),
    ("abc", "VALID", "a[=1",
     b"%ff=%fe&a[=1&a[b]=2&a=3&poll[options][]=x&poll=y&media_ids[]=-1&id[a]=2",
     {"Content-Type": "application/x-www-form-urlencoded"}),
    ("..", "VALID", "", b"\xff\xfe\x00", {"Content-Type": "application/json"}),
    ("0", "Bearer garbage", "", b'{"a":1', {"Content-Type": "text/plain"}),
    ("%00", "VALID", "", b"x=1", {"Content-Type": "application/x-www-form-urlencoded; charset=nope",
                                   "Idempotency-Key": "k" * 5000}),
]  # fmt: skip


def _shaped(route: Route, shape: Shape, token: str) -> Request:
    segment, auth, query, body, headers = shape
    path = route.fill({name: segment for name in route.placeholders})
    headers = dict(headers)
    if auth is not None:
        headers["Authorization"] = f"Bearer {token}" if auth == "VALID" else auth
    return Request(route.method, path + ("?" + query if query else ""), body, headers)


async def test_every_route_answers_fixed_hostile_shapes_without_5xx(target: Target) -> None:
    # The trailing-slash twins share their handlers; the random half visits them.
    routes = [
        r for r in route_table(target.api) if not r.template.endswith("/") or r.template == "/"
    ]
    requests = [_shaped(route, shape, target.token) for route in routes for shape in SHAPES]
    problems = await _walk(target, requests)
    assert not problems, f"{len(problems)} of {len(requests)}:\n" + "\n".join(problems)


# -- the random half ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_random_hostile_requests_never_answer_5xx(
    target: Target, data: st.DataObject
) -> None:
    """A few drawn requests per example, each to a route drawn from the table."""
    table = route_table(target.api)
    routes = data.draw(st.lists(st.sampled_from(table), min_size=1, max_size=6), label="routes")
    requests = [data.draw(requests_for(route, target.token)) for route in routes]
    problems = await _walk(target, requests)
    assert not problems, "\n".join(problems)


# -- the shapes that used to answer 500, and the answers Mastodon gives them -----------------


def _with(request: Request, token: str | None) -> Request:
    if token is not None:
        request.headers["Authorization"] = f"Bearer {token}"
    return request


async def test_out_of_range_ids_in_paths_are_record_not_found(target: Target) -> None:
    """Mastodon answers an id that names nothing with 404 ``Record not found``; ids past
    2^63 used to reach the database and answer 500."""
    api_id_routes = [
        r for r in route_table(target.api)
        if r.template.startswith("/api/") and set(r.placeholders) & _ID_PLACEHOLDERS
        # A stub: endorsements are not supported, every account has none (id unread).
        and "/endorsements" not in r.template
    ]  # fmt: skip
    assert len(api_id_routes) > 60, len(api_id_routes)
    wrong = []
    async with ClientSession() as session:
        for route in api_id_routes:
            for bad in ("99999999999999999999", "9223372036854775808", "-1", "%C2%B2", "abc"):
                values = {n: (bad if n in _ID_PLACEHOLDERS else "x") for n in route.placeholders}
                path = route.fill(values)
                answer = await send(
                    session, target.base, _with(Request(route.method, path), target.token)
                )
                doc = json.loads(answer.body) if answer.content_type == "application/json" else None
                # Digits reach the handler, which answers like Mastodon; "-1" or "abc" on a
                # ``{id:\d+}`` route match no route: a 404 "Not Found", as Mastodon's router says.
                expected = "Record not found" if bad.isdigit() else doc and doc.get("error")
                if answer.status != 404 or doc != {"error": expected}:
                    wrong.append(
                        f"{route.method} {path[:60]} → {answer.status} {answer.body[:100]!r}"
                    )
    assert not wrong, "\n".join(wrong)


PARAM_CASES = [
    "/api/v1/timelines/public?max_id=99999999999999999999",
    "/api/v1/timelines/public?since_id=99999999999999999999",
    "/api/v1/timelines/public?min_id=-1",
    "/api/v1/timelines/public?max_id=%C2%B2",
    "/api/v1/timelines/home?max_id=9223372036854775808",
    "/api/v1/notifications?max_id=99999999999999999999",
    "/api/v1/accounts?id[]=99999999999999999999",
    "/api/v1/accounts/relationships?id[]=99999999999999999999",
    "/api/v1/accounts/relationships?id[]=-5",
    "/api/v1/notifications?account_id=99999999999999999999",
    "/api/v1/accounts/familiar_followers?id[]=99999999999999999999",
    "/api/v1/accounts/search?q=a&limit=99999999999999999999",
    "/api/v2/search?q=a&account_id=99999999999999999999",
]


@pytest.mark.parametrize("token", [True, False], ids=["token", "anonymous"])
async def test_out_of_range_ids_in_parameters_are_client_errors(
    target: Target, token: bool
) -> None:
    wrong = []
    async with ClientSession() as session:
        for path_qs in PARAM_CASES:
            request = _with(Request("GET", path_qs), target.token if token else None)
            answer = await send(session, target.base, request)
            if answer.status not in (400, 401, 422):
                wrong.append(f"{path_qs} → {answer.status} {answer.body[:100]!r}")
            elif not isinstance(json.loads(answer.body).get("error"), str):
                wrong.append(f"{path_qs} → no error message")
    assert not wrong, "\n".join(wrong)


async def test_empty_id_parameters_are_no_parameters(target: Target) -> None:
    """Apps send ``max_id=`` for "no bound"; that stays a plain first page."""
    resp = await target.admin.get("/api/v1/timelines/public?max_id=&since_id=&min_id=")
    assert resp.status == 200, await resp.text()


@pytest.mark.parametrize(
    "body",
    [
        {"status": "hi", "media_ids": ["99999999999999999999"]},
        {"status": "hi", "media_ids": [-1]},
        {"status": "hi", "media_ids": [{"id": 1}]},
        {"status": "hi", "in_reply_to_id": "99999999999999999999"},
        {"status": "hi", "poll": {"options": ["a", "b"], "expires_in": 10**30}},
    ],
)
async def test_out_of_range_numbers_in_a_status_are_a_validation_error(
    target: Target, body: dict[str, Any]
) -> None:
    resp = await target.admin.post("/api/v1/statuses", json=body)
    assert resp.status == 422, (resp.status, await resp.text())
    assert isinstance((await resp.json())["error"], str)


@pytest.mark.parametrize(
    "ctype",
    ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=x"],
)
async def test_a_broken_multipart_body_is_a_client_error(target: Target, ctype: str) -> None:
    resp = await target.admin.post(
        "/api/v2/media", data=b"--y\r\n\r\nnot a form\r\n--y--\r\n", headers={"Content-Type": ctype}
    )
    assert resp.status in (400, 422), (resp.status, await resp.text())
    assert isinstance((await resp.json())["error"], str)


@pytest.mark.parametrize(
    "uri", ["http://[::1", "http://[::1]:99999/", "https://exa mple.org/", "http://:80/", "//x"]
)
async def test_a_malformed_redirect_uri_is_a_validation_error(api: Api, uri: str) -> None:
    resp = await api.client.post(
        "/api/v1/apps", json={"client_name": "x", "redirect_uris": uri, "scopes": "read"}
    )
    assert resp.status == 422, (resp.status, await resp.text())
    assert isinstance((await resp.json())["error"], str)


@pytest.mark.parametrize("body", [b"{", b"[1]", b'"x"', b"\xff\xfe", b'{"a": [1e999]}'])
async def test_a_malformed_json_body_is_a_client_error(target: Target, body: bytes) -> None:
    resp = await target.admin.post(
        "/api/v1/statuses", data=body, headers={"Content-Type": "application/json"}
    )
    assert resp.status in (400, 422), (resp.status, await resp.text())
    assert isinstance((await resp.json())["error"], str)
