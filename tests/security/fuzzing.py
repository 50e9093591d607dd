"""Hostile request material for the fuzz tests: values, strategies, a raw sender.

Requests go out through a bare ``ClientSession`` with pre-encoded URLs, so ``..``, broken
percent-encoding and empty segments reach the server as written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from aiohttp import ClientSession
from hypothesis import strategies as st
from yarl import URL

from security.rig import Api

ALL_SCOPES = "read write follow push profile admin:read admin:write"
PLACEHOLDER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
# Placeholders that name a row by id: out-of-range values must read as "no such record".
ID_PLACEHOLDERS = frozenset({"id", "account_id", "status_id"})

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
    b'{"status": "nul \\u0000 here", "q": "\\u0000"}',
    b'{"a":' * 1000 + b"1" + b"}" * 1000,  # deeper than Python recurses
    b"[" * 5000 + b"]" * 5000,
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
        return PLACEHOLDER.findall(self.template)

    def fill(self, values: dict[str, str]) -> str:
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], self.template)


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


def error_shape_problem(answer: Answer) -> str | None:
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
