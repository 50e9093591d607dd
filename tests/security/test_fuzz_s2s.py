"""The server-to-server face with hostile input: no 5xx, and the inbox takes only
ActivityPub's content types.

The route-table walk (test_fuzz_routes.py) sends garbage usernames, which stop at the
account lookup; here the username is a real local account, so hostile status ids, paging
parameters and webfinger resources reach the code that parses them.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from aiohttp import ClientSession, ClientTimeout
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from security.fuzzing import HOSTILE_IDS, HOSTILE_VALUES, Request, send
from security.rig import Actor, Api

ACCEPTS = [
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "text/html",
    None,
]
USER_PATHS = [
    "/users/{u}",
    "/users/{u}/outbox",
    "/users/{u}/followers",
    "/users/{u}/following",
    "/users/{u}/collections/featured",
    "/users/{u}/collections/tags",
    "/users/{u}/statuses/{id}",
    "/users/{u}/statuses/{id}/activity",
    "/users/{u}/statuses/{id}/replies",
    "/@{u}",
    "/@{u}/{id}",
    "/tags/{id}",
    "/nodeinfo/{id}",
    "/.well-known/nodeinfo",
    "/.well-known/host-meta",
    "/.well-known/host-meta.json",
    "/actor",
]
PAGING_KEYS = ["page", "max_id", "min_id", "since_id", "only_other_accounts", "local", "cursor"]
RESOURCES = st.one_of(
    st.sampled_from(
        [
            "acct:alice@local.test",
            "acct:alice@LOCAL.TEST",
            "acct:@local.test",
            "acct:alice@",
            "acct:",
            "acct:alice",
            "alice@local.test",
            "@alice@local.test",
            "https://local.test/users/alice",
            "https://local.test/@alice",
            "https://local.test/users/",
            "https://local.test/users/alice/statuses/99999999999999999999",
            "https://other.example/users/alice",
            "https://local.test:99999/users/alice",
            "http://[::1",
            "mailto:alice@local.test",
            "acct:" + "a" * 3000 + "@local.test",
            "acct:alice@local.test@local.test",
            "acct:%00@local.test",
            "",
        ]
    ),
    st.text(max_size=40),
    st.sampled_from(HOSTILE_VALUES),
)


@pytest.fixture
async def alice(api: Api) -> Actor:
    actor = await api.user("alice")
    await actor.status("hello #fuzz")
    return actor


def _base(api: Api) -> str:
    return str(api.client.make_url("")).rstrip("/")


async def _problems(api: Api, requests: list[Request]) -> list[str]:
    out = []
    async with ClientSession(timeout=ClientTimeout(total=30)) as session:
        for request in requests:
            answer = await send(session, _base(api), request)
            if answer.status >= 500:
                out.append(f"{answer.status} {answer.body[:200]!r} ← {request.describe()}")
    return out


@st.composite
def s2s_reads(draw: st.DrawFn, username: str) -> Request:
    template = draw(st.sampled_from(USER_PATHS))
    ident = draw(st.one_of(st.sampled_from(HOSTILE_IDS), st.integers().map(str)))
    path = template.replace("{u}", username).replace("{id}", ident)
    pairs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(PAGING_KEYS),
                st.one_of(st.sampled_from(HOSTILE_VALUES), st.integers().map(str)),
            ),
            max_size=4,
        )
    )
    query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in pairs)
    headers = {}
    accept = draw(st.sampled_from(ACCEPTS))
    if accept is not None:
        headers["Accept"] = accept
    return Request("GET", path + ("?" + query if query else ""), None, headers)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
async def test_actor_status_and_collection_urls_never_answer_5xx(
    api: Api, alice: Actor, data: st.DataObject
) -> None:
    requests = data.draw(st.lists(s2s_reads(alice.account.username), min_size=1, max_size=5))
    problems = await _problems(api, requests)
    assert not problems, "\n".join(problems)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(resources=st.lists(RESOURCES, min_size=1, max_size=5))
async def test_webfinger_with_any_resource_never_answers_5xx(
    api: Api, alice: Actor, resources: list[str]
) -> None:
    requests = [
        Request("GET", "/.well-known/webfinger?resource=" + quote(r, safe=""), None, {})
        for r in resources
    ]
    requests.append(Request("GET", "/.well-known/webfinger", None, {}))
    requests.append(Request("GET", "/.well-known/webfinger?resource=%ff&resource=x", None, {}))
    problems = await _problems(api, requests)
    assert not problems, "\n".join(problems)


async def test_the_status_urls_of_a_real_account_answer_404_for_ids_out_of_range(
    api: Api, alice: Actor
) -> None:
    u = alice.account.username
    async with ClientSession() as session:
        for ident in ("99999999999999999999", "9223372036854775808", "%C2%B2", "-1"):
            for path in (f"/users/{u}/statuses/{ident}", f"/users/{u}/statuses/{ident}/replies",
                         f"/users/{u}/statuses/{ident}/activity", f"/@{u}/{ident}"):  # fmt: skip
                request = Request("GET", path, None, {"Accept": "application/activity+json"})
                answer = await send(session, _base(api), request)
                assert answer.status == 404, (path, answer.status, answer.body[:200])
        for query in ("page=true&max_id=99999999999999999999", "page=99999999999999999999",
                      "page=true&min_id=-1"):  # fmt: skip
            for coll in ("outbox", "followers", "following"):
                request = Request("GET", f"/users/{u}/{coll}?{query}", None,
                                  {"Accept": "application/activity+json"})  # fmt: skip
                answer = await send(session, _base(api), request)
                assert answer.status < 500, (coll, query, answer.status, answer.body[:200])


# -- the inbox's content types --------------------------------------------------------------

INBOX_PATHS = ["/inbox", "/users/alice/inbox", "/actor/inbox"]
_ACTIVITY = json.dumps(
    {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://peer.example/1",
        "type": "Create",
        "actor": "https://peer.example/users/mallory",
        "object": {"type": "Note", "content": "hi"},
    }
).encode()


TAKEN = [
    "application/activity+json",
    "application/activity+json; charset=utf-8",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "application/ld+json",
    "APPLICATION/ACTIVITY+JSON",
    "application/json",
]
REFUSED = [
    None,
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "text/html",
    "application/activity+jsonx",
    "application/xml",
    "",
    "garbage",
]


async def test_the_inbox_takes_only_activitypub_content_types(api: Api, alice: Actor) -> None:
    """Unsigned, the types it takes are refused for the signature (401), not for their type;
    the others are 415 (they used to be read, parsed and checked like the rest)."""
    wrong = []
    async with ClientSession() as session:
        for path in INBOX_PATHS:
            for ctype in [*TAKEN, *REFUSED]:
                headers = {} if ctype is None else {"Content-Type": ctype}
                answer = await send(session, _base(api), Request("POST", path, _ACTIVITY, headers))
                expected = 401 if ctype in TAKEN else 415
                if answer.status != expected or "error" not in json.loads(answer.body):
                    wrong.append(f"{path} {ctype!r} → {answer.status} {answer.body[:100]!r}")
    assert not wrong, "\n".join(wrong)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    bodies=st.lists(
        st.one_of(
            st.binary(max_size=300),
            st.sampled_from([b"{", b"[]", b"null", b'{"type": []}', b'{"id": {"a": 1e999}}']),
            st.dictionaries(
                st.sampled_from(["id", "type", "actor", "object", "to", "cc", "@context", "x"]),
                st.one_of(st.text(max_size=20), st.integers(), st.lists(st.text(max_size=5))),
                max_size=6,
            ).map(lambda d: json.dumps(d).encode()),
        ),
        min_size=1,
        max_size=4,
    ),
    path=st.sampled_from([*INBOX_PATHS, "/users/nobody/inbox", "/users/%00/inbox"]),
    signature=st.sampled_from(
        [
            None,
            "garbage",
            'keyId="http://127.0.0.1:1/k",headers="(request-target) host date",signature="AA"',
            'keyId="https://local.test/users/alice#main-key",signature="%%%"',
        ]
    ),
)
async def test_garbage_at_the_inbox_never_answers_5xx(
    api: Api, alice: Actor, bodies: list[bytes], path: str, signature: str | None
) -> None:
    headers = {"Content-Type": "application/activity+json", "Date": "garbage"}
    if signature is not None:
        headers["Signature"] = signature
    problems = await _problems(api, [Request("POST", path, b, dict(headers)) for b in bodies])
    assert not problems, "\n".join(problems)


async def test_a_null_byte_in_an_activity_is_refused_before_any_lookup(
    api: Api, alice: Actor
) -> None:
    """The Delete of an unknown actor looks the actor up before the signature check; with a
    NUL in its id that lookup answered 500 on PostgreSQL."""
    docs = [
        {"id": "https://peer.example/1", "type": "Delete",
         "actor": "https://peer.example/users/m\u0000", "object": "https://peer.example/users/m"},
        {"id": "https://peer.example/1", "type": "Create", "actor": "https://peer.example/u",
         "object": {"type": "Note", "content": "a\u0000b"}},
    ]  # fmt: skip
    async with ClientSession() as session:
        for doc in docs:
            answer = await send(session, _base(api), Request(
                "POST", "/inbox", json.dumps(doc).encode(),
                {"Content-Type": "application/activity+json"}))  # fmt: skip
            assert answer.status == 400, (doc, answer.status, answer.body[:200])


async def test_hosts_that_cannot_be_decoded_are_no_server_error(api: Api, alice: Actor) -> None:
    """Punycode that does not decode (``xn--zz``) made the host lookup raise UnicodeError."""
    bad = ("https://xn--zz.com/u", "https://xn--a-ecp.com/u", "https://xn--/u")
    async with ClientSession() as session:
        for url in bad:
            doc = {"id": f"{url}/1", "type": "Create", "actor": url,
                   "object": {"id": f"{url}/n", "type": "Note", "content": "hi"}}  # fmt: skip
            signature = f'keyId="{url}#main-key",headers="(request-target) date",signature="AA=="'
            for headers in (
                {"Content-Type": "application/activity+json"},
                {"Content-Type": "application/activity+json", "Signature": signature},
            ):
                answer = await send(session, _base(api), Request(
                    "POST", "/inbox", json.dumps(doc).encode(), headers))  # fmt: skip
                assert 400 <= answer.status < 500, (url, answer.status, answer.body[:200])


async def test_deeply_nested_activities_are_no_server_error(api: Api, alice: Actor) -> None:
    nested = (
        b'{"id": "https://peer.example/1", "type": "Create", "actor": "https://peer.example/u",'
    )
    for body in (
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        nested + b'"object": ' + b"[" * 1020 + b"]" * 1020 + b"}",
        nested + b'"object": ' + b'{"a":' * 900 + b'"\\u0000"' + b"}" * 900 + b"}",
    ):
        async with ClientSession() as session:
            answer = await send(session, _base(api), Request(
                "POST", "/inbox", body, {"Content-Type": "application/activity+json"}))  # fmt: skip
        assert answer.status < 500, (answer.status, answer.body[:200])
