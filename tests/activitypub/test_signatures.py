from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ed25519

from activitypub.errors import FetchError, SignatureError
from activitypub.keys import generate_keypair, load_private, load_public
from activitypub.signatures import (
    HS2019,
    ResolvedKey,
    VerifiedSignature,
    digest_header,
    http_date,
    parse_signature_header,
    sign_request,
    verify_request,
)

KEY_ID = "https://remote.example/users/bob#main-key"
OWNER = "https://remote.example/users/bob"
URL = "https://local.example/users/alice/inbox"
BODY = b'{"type":"Follow","actor":"https://remote.example/users/bob"}'


@pytest.fixture(scope="module")
def bob_keys() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture(scope="module")
def mallory_keys() -> tuple[str, str]:
    return generate_keypair()


def resolver_for(*pems: str):  # type: ignore[no-untyped-def]
    """A resolver giving the first PEM, then the next ones on each refresh."""
    calls: list[tuple[str, bool]] = []
    keys = [load_public(p) for p in pems]
    state = {"i": 0}

    async def resolve(key_id: str, refresh: bool) -> ResolvedKey | None:
        calls.append((key_id, refresh))
        if refresh and state["i"] + 1 < len(keys):
            state["i"] += 1
        return ResolvedKey(owner=OWNER, public_key=keys[state["i"]])

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def signed(private_pem: str, **kw):  # type: ignore[no-untyped-def]
    return sign_request(
        "POST",
        URL,
        {"Content-Type": "application/activity+json"},
        BODY,
        KEY_ID,
        load_private(private_pem),
        **kw,
    )


async def test_round_trip(bob_keys: tuple[str, str]) -> None:
    headers = signed(bob_keys[0])
    assert headers["Host"] == "local.example"
    assert headers["Digest"] == digest_header(BODY)
    assert 'headers="(request-target) host date digest"' in headers["Signature"]
    result = await verify_request(
        "POST", "/users/alice/inbox", headers, BODY, resolver_for(bob_keys[1])
    )
    assert isinstance(result, VerifiedSignature)
    assert result.key_id == KEY_ID
    assert result.key_owner == OWNER == result.actor
    assert result.key_host == "remote.example"
    assert result.algorithm == "rsa-sha256"


async def test_parse_header() -> None:
    sig = base64.b64encode(b"abc").decode()
    parsed = parse_signature_header(
        f'keyId="{KEY_ID}",algorithm="hs2019",created=1700000000,'
        f'headers="(request-target) (created) host",signature="{sig}"'
    )
    assert parsed.key_id == KEY_ID
    assert parsed.headers == ("(request-target)", "(created)", "host")
    assert parsed.created == 1700000000
    assert parsed.signature == b"abc"
    assert parsed.key_host == "remote.example"
    with pytest.raises(SignatureError, match="keyId"):
        parse_signature_header(f'signature="{sig}"')
    with pytest.raises(SignatureError, match="base64"):
        parse_signature_header(f'keyId="{KEY_ID}",signature="!!!"')
    with pytest.raises(SignatureError, match="malformed"):
        parse_signature_header('keyId="a" junk')


async def test_bad_digest(bob_keys: tuple[str, str]) -> None:
    headers = signed(bob_keys[0])
    with pytest.raises(SignatureError, match="Digest does not match"):
        await verify_request(
            "POST", "/users/alice/inbox", headers, BODY + b" ", resolver_for(bob_keys[1])
        )


async def test_missing_digest(bob_keys: tuple[str, str]) -> None:
    headers = signed(bob_keys[0])
    del headers["Digest"]
    with pytest.raises(SignatureError, match="missing Digest"):
        await verify_request("POST", "/users/alice/inbox", headers, BODY, resolver_for(bob_keys[1]))


async def test_content_digest_accepted(bob_keys: tuple[str, str]) -> None:
    import hashlib

    headers = signed(bob_keys[0])
    headers["Content-Digest"] = (
        "sha-256=:" + base64.b64encode(hashlib.sha256(BODY).digest()).decode() + ":"
    )
    await verify_request("POST", "/users/alice/inbox", headers, BODY, resolver_for(bob_keys[1]))
    headers["Content-Digest"] = "sha-256=:" + base64.b64encode(b"x" * 32).decode() + ":"
    del headers["Digest"]
    with pytest.raises(SignatureError):
        await verify_request("POST", "/users/alice/inbox", headers, BODY, resolver_for(bob_keys[1]))


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(timedelta(hours=-2), "stale"), (timedelta(hours=2), "future")],
)
async def test_date_window(bob_keys: tuple[str, str], offset: timedelta, reason: str) -> None:
    now = datetime.now(UTC)
    headers = signed(bob_keys[0], now=now + offset)
    with pytest.raises(SignatureError, match=reason):
        await verify_request(
            "POST", "/users/alice/inbox", headers, BODY, resolver_for(bob_keys[1]), now=now
        )
    # A wider window (configurable) lets it through.
    await verify_request(
        "POST",
        "/users/alice/inbox",
        headers,
        BODY,
        resolver_for(bob_keys[1]),
        now=now,
        max_skew=timedelta(hours=3),
    )


async def test_missing_date(bob_keys: tuple[str, str]) -> None:
    headers = signed(bob_keys[0])
    del headers["Date"]
    with pytest.raises(SignatureError, match="Date"):
        await verify_request("POST", "/users/alice/inbox", headers, BODY, resolver_for(bob_keys[1]))


async def test_wrong_key(bob_keys: tuple[str, str], mallory_keys: tuple[str, str]) -> None:
    headers = signed(mallory_keys[0])
    resolve = resolver_for(bob_keys[1])
    with pytest.raises(SignatureError, match="does not verify"):
        await verify_request("POST", "/users/alice/inbox", headers, BODY, resolve)
    # It tried a refresh exactly once.
    assert resolve.calls == [(KEY_ID, False), (KEY_ID, True)]  # type: ignore[attr-defined]


async def test_key_rotation(bob_keys: tuple[str, str], mallory_keys: tuple[str, str]) -> None:
    # Cached key is the old one; the refreshed key verifies.
    headers = signed(bob_keys[0])
    resolve = resolver_for(mallory_keys[1], bob_keys[1])
    result = await verify_request("POST", "/users/alice/inbox", headers, BODY, resolve)
    assert result.key_owner == OWNER
    assert resolve.calls == [(KEY_ID, False), (KEY_ID, True)]  # type: ignore[attr-defined]


async def test_unknown_key(bob_keys: tuple[str, str]) -> None:
    async def none(key_id: str, refresh: bool) -> ResolvedKey | None:
        return None

    async def failing(key_id: str, refresh: bool) -> ResolvedKey | None:
        raise FetchError("gone")

    headers = signed(bob_keys[0])
    with pytest.raises(SignatureError, match="unknown signing key"):
        await verify_request("POST", "/users/alice/inbox", headers, BODY, none)
    with pytest.raises(SignatureError, match="could not be fetched"):
        await verify_request("POST", "/users/alice/inbox", headers, BODY, failing)


async def test_tampered_signature(bob_keys: tuple[str, str]) -> None:
    headers = signed(bob_keys[0])
    with pytest.raises(SignatureError, match="does not verify"):
        await verify_request(
            "POST", "/users/alice/outbox", headers, BODY, resolver_for(bob_keys[1])
        )


async def test_missing_signature() -> None:
    async def never(key_id: str, refresh: bool) -> ResolvedKey | None:
        raise AssertionError("must not resolve")

    with pytest.raises(SignatureError, match="missing Signature") as info:
        await verify_request("POST", "/inbox", {"Date": http_date()}, BODY, never)
    assert info.value.status == 401


async def test_uncovered_headers(bob_keys: tuple[str, str]) -> None:
    key = load_private(bob_keys[0])
    # Sign without a body so digest is not covered, then send it as a POST with a body.
    headers = sign_request("POST", URL, {}, None, KEY_ID, key)
    headers["Digest"] = digest_header(BODY)
    with pytest.raises(SignatureError, match="does not cover digest"):
        await verify_request("POST", "/users/alice/inbox", headers, BODY, resolver_for(bob_keys[1]))
    with pytest.raises(SignatureError, match="does not cover x-custom"):
        await verify_request(
            "GET",
            "/users/alice/inbox",
            headers,
            None,
            resolver_for(bob_keys[1]),
            required_headers=["(request-target)", "x-custom"],
        )


async def test_key_host_refused_before_lookup(bob_keys: tuple[str, str]) -> None:
    async def never(key_id: str, refresh: bool) -> ResolvedKey | None:
        raise AssertionError("must not resolve")

    headers = signed(bob_keys[0])
    with pytest.raises(SignatureError, match="not allowed"):
        await verify_request(
            "POST",
            "/users/alice/inbox",
            headers,
            BODY,
            never,
            key_host_allowed=lambda host: host != "remote.example",
        )


async def test_hs2019_created_expires(bob_keys: tuple[str, str]) -> None:
    headers = signed(bob_keys[0], algorithm=HS2019, expires_in=timedelta(minutes=5))
    parsed = parse_signature_header(headers["Signature"])
    assert parsed.algorithm == "hs2019"
    assert "(created)" in parsed.headers and "(expires)" in parsed.headers
    result = await verify_request(
        "POST", "/users/alice/inbox", headers, BODY, resolver_for(bob_keys[1])
    )
    assert result.algorithm == "hs2019"
    # (created) satisfies the date requirement even without a Date header.
    later = datetime.now(UTC) + timedelta(minutes=10)
    with pytest.raises(SignatureError, match="expired"):
        await verify_request(
            "POST", "/users/alice/inbox", headers, BODY, resolver_for(bob_keys[1]), now=later
        )


async def test_ed25519_hs2019() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    headers = sign_request("GET", URL, {}, None, KEY_ID, private, algorithm=HS2019)

    async def resolve(key_id: str, refresh: bool) -> ResolvedKey | None:
        return ResolvedKey(owner=OWNER, public_key=private.public_key())

    result = await verify_request("GET", "/users/alice/inbox", headers, None, resolve)
    assert result.key_owner == OWNER


async def test_signed_against_real_server(aiohttp_client, bob_keys: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    resolve = resolver_for(bob_keys[1])

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            verified = await verify_request(
                request.method, request.raw_path, request.headers, body, resolve
            )
        except SignatureError as exc:
            return web.json_response({"error": exc.reason}, status=exc.status)
        return web.json_response({"actor": verified.actor}, status=202)

    app = web.Application()
    app.router.add_post("/users/alice/inbox", inbox)
    client = await aiohttp_client(app)
    url = client.make_url("/users/alice/inbox?x=a%20b")
    headers = sign_request(
        "POST",
        url,
        {"Content-Type": "application/activity+json"},
        BODY,
        KEY_ID,
        load_private(bob_keys[0]),
    )
    resp = await client.session.post(url, data=BODY, headers=headers)
    assert resp.status == 202, await resp.text()
    assert (await resp.json())["actor"] == OWNER

    resp = await client.session.post(url, data=BODY + b"!", headers=headers)
    assert resp.status == 401
    assert "Digest" in (await resp.json())["error"]


# ---------------------------------------------------------------- RFC 9421
