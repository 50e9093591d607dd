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
from collections import Counter
from dataclasses import dataclass

import pytest
from aiohttp import ClientSession, ClientTimeout
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from security.fuzzing import (
    ALL_SCOPES,
    ID_PLACEHOLDERS,
    PLACEHOLDER,
    Request,
    Route,
    error_shape_problem,
    requests_for,
    route_table,
    send,
)
from security.rig import Actor, Api


class Target:
    """The application under test and a valid admin token holding every scope."""

    def __init__(self, api: Api, admin: Actor) -> None:
        self.api = api
        self.admin = admin

    def __repr__(self) -> str:  # hypothesis prints it with every failing example
        return f"Target({self.api.config.database.url.split(':', 1)[0]}, admin token)"

    @property
    def token(self) -> str:
        return self.admin.token

    @property
    def base(self) -> str:
        return str(self.api.client.make_url("")).rstrip("/")


@pytest.fixture
async def target(api: Api) -> Target:
    return Target(api, await api.user("fuzzadmin", scopes=ALL_SCOPES, admin=True))


async def _walk(
    target: Target, requests: list[Request], statuses: Counter[int] | None = None
) -> list[str]:
    problems = []
    async with ClientSession(timeout=ClientTimeout(total=30)) as session:
        for request in requests:
            answer = await send(session, target.base, request)
            if statuses is not None:
                statuses[answer.status] += 1
            if answer.status >= 500:
                problems.append(f"{answer.status} {answer.body[:200]!r} ← {request.describe()}")
            elif (shape := error_shape_problem(answer)) is not None:
                problems.append(f"{answer.status} {shape} ← {request.describe()}")
        # A walk that locked itself out (revoked or suspended its own token) proves little.
        check = Request("GET", "/api/v1/accounts/verify_credentials")
        assert (await send(session, target.base, _with(check, target.token))).status == 200
    return problems


def test_placeholders_are_read_from_templates() -> None:
    assert PLACEHOLDER.findall(r"/a/{id:\d+}/b/{name}") == ["id", "name"]
    assert Route("GET", r"/a/{id:\d+}/b/{name}").fill({"id": "1", "name": "x"}) == "/a/1/b/x"


async def test_the_walk_covers_the_whole_table(target: Target) -> None:
    """Guard against a walk that silently covers nothing (the router API moving under us)."""
    table = route_table(target.api)
    templates = {r.template for r in table}
    # ~190 method+template pairs once the trailing-slash copies left the table (one catch-all
    # serves them now); far more than a broken walk would find.
    assert len(table) > 150, len(table)
    for expected in ("/api/v1/accounts/{id}", "/inbox", "/.well-known/webfinger",
                     "/users/{username}/statuses/{status_id}", "/oauth/token",
                     "/api/v2/media", "/users/{username}/outbox"):  # fmt: skip
        assert expected in templates, expected


# -- the deterministic half: fixed hostile shapes, each sent to every route ----------------

_HUGE = "99999999999999999999"
_HUGE_IDS = (_HUGE, "9223372036854775808", "-1", "%C2%B2")
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
    statuses: Counter[int] = Counter()
    problems = await _walk(target, requests, statuses)
    print(sorted(statuses.items()))
    assert not problems, f"{len(problems)} of {len(requests)}:\n" + "\n".join(problems)


# -- the random half ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
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
        if r.template.startswith("/api/") and set(r.placeholders) & ID_PLACEHOLDERS
        # A stub: endorsements are not supported, every account has none (id unread).
        and "/endorsements" not in r.template
    ]  # fmt: skip
    assert len(api_id_routes) > 60, len(api_id_routes)
    wrong = []
    async with ClientSession() as session:
        for route in api_id_routes:
            for bad in (*_HUGE_IDS, "abc"):
                values = {n: (bad if n in ID_PLACEHOLDERS else "x") for n in route.placeholders}
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


_JSON = "application/json"
_CLIENT_ERROR = frozenset({400, 422})


@dataclass(frozen=True)
class Pinned:
    """A request that once answered 500 (or is next to one that did) and what it gets now."""

    method: str
    path: str
    expect: frozenset[int]
    body: bytes | None = None
    content_type: str | None = None
    token: bool = True


PINNED = [
    # Ids in parameters: 422, before and without a token alike (they used to reach the database).
    *(Pinned("GET", p, frozenset({400, 401, 422}), token=t)
      for t in (True, False)
      for p in (
          f"/api/v1/timelines/public?max_id={_HUGE}",
          f"/api/v1/timelines/public?since_id={_HUGE}",
          "/api/v1/timelines/public?min_id=-1",
          "/api/v1/timelines/public?max_id=%C2%B2",
          "/api/v1/timelines/home?max_id=9223372036854775808",
          f"/api/v1/notifications?max_id={_HUGE}",
          f"/api/v1/accounts?id[]={_HUGE}",
          f"/api/v1/accounts/relationships?id[]={_HUGE}",
          "/api/v1/accounts/relationships?id[]=-5",
          f"/api/v1/notifications?account_id={_HUGE}",
          f"/api/v1/accounts/familiar_followers?id[]={_HUGE}",
          f"/api/v1/accounts/search?q=a&limit={_HUGE}",
          f"/api/v2/search?q=a&account_id={_HUGE}",
      )),
    # Apps send ``max_id=`` for "no bound": still a plain first page.
    Pinned("GET", "/api/v1/timelines/public?max_id=&since_id=&min_id=", frozenset({200})),
    # Numbers out of range in a status.
    *(Pinned("POST", "/api/v1/statuses", frozenset({422}), json.dumps(b).encode(), _JSON)
      for b in (
          {"status": "hi", "media_ids": [_HUGE]},
          {"status": "hi", "media_ids": [-1]},
          {"status": "hi", "media_ids": [{"id": 1}]},
          {"status": "hi", "in_reply_to_id": _HUGE},
          {"status": "hi", "poll": {"options": ["a", "b"], "expires_in": 10**30}},
      )),
    # A multipart body without (or with the wrong) boundary.
    *(Pinned("POST", "/api/v2/media", _CLIENT_ERROR, b"--y\r\n\r\nnot a form\r\n--y--\r\n", c)
      for c in ("multipart/form-data", "multipart/form-data; boundary=",
                "multipart/form-data; boundary=x")),
    # Redirect URIs that urlsplit refuses, or that name no host.
    *(Pinned("POST", "/api/v1/apps", frozenset({422}),
             json.dumps({"client_name": "x", "redirect_uris": u, "scopes": "read"}).encode(),
             _JSON, token=False)
      for u in ("http://[::1", "http://[::1]:99999/", "https://exa mple.org/", "http://:80/",
                "//x")),
    # Malformed JSON, and JSON deeper than Python recurses.
    *(Pinned("POST", "/api/v1/statuses", _CLIENT_ERROR, b, _JSON)
      for b in (b"{", b"[1]", b'"x"', b"\xff\xfe", b'{"a": [1e999]}',
                b'{"a":' * 1000 + b"1" + b"}" * 1000,
                b'{"a":' + b"[" * 1020 + b"]" * 1020 + b"}")),
    # NUL: PostgreSQL's text cannot hold one (SQLite's can), so these answered 500 on one
    # backend only.
    *(Pinned("GET", p, frozenset({400}))
      for p in ("/api/v1/accounts/lookup?acct=a%00b", "/api/v1/accounts/%00",
                "/api/v1/timelines/tag/a%00b", "/tags/a%00b", "/@a%00b")),
    *(Pinned(m, p, frozenset({400}), b, _JSON)
      for m, p, b in (
          ("POST", "/api/v1/statuses", b'{"status": "nul \\u0000 here"}'),
          ("POST", "/api/v1/lists", b'{"title": "x", "\\u0000": 1}'),
          ("PATCH", "/api/v1/accounts/update_credentials", b'{"note": ["\\u0000"]}'),
      )),
]  # fmt: skip


async def test_pinned_shapes_answer_as_mastodon_would(target: Target) -> None:
    wrong = []
    async with ClientSession() as session:
        for case in PINNED:
            headers = {} if case.content_type is None else {"Content-Type": case.content_type}
            request = Request(case.method, case.path, case.body, headers)
            answer = await send(
                session, target.base, _with(request, target.token if case.token else None)
            )
            if answer.status not in case.expect:
                wrong.append(
                    f"{case.method} {case.path[:80]} {case.body!r:.60} → {answer.status} {answer.body[:100]!r}"
                )
            elif answer.status >= 400 and not isinstance(json.loads(answer.body).get("error"), str):
                wrong.append(f"{case.method} {case.path[:80]} → no error message")
    assert not wrong, f"{len(wrong)} of {len(PINNED)}:\n" + "\n".join(wrong)
