"""RFC 9421 HTTP Message Signatures (activitypub.httpsig.rfc9421), through the public entry
``activitypub.signatures.verify_request`` and directly (Signature-Input parsing, the
signature base against the spec's own vector)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from activitypub.errors import SignatureError
from activitypub.keys import generate_keypair, load_private, load_public
from activitypub.signatures import (
    ResolvedKey,
    parse_signature_input,
    sign_request_rfc9421,
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


def signed_9421(private_pem: str, **kw):  # type: ignore[no-untyped-def]
    return sign_request_rfc9421(
        "POST", URL, {"Content-Type": "application/activity+json", "Host": "local.example"},
        BODY, KEY_ID, load_private(private_pem), **kw,
    )  # fmt: skip


async def test_rfc9421_round_trip(bob_keys: tuple[str, str]) -> None:
    headers = signed_9421(bob_keys[0])
    assert headers["Signature-Input"].startswith('sig1=("@method" "@target-uri" "content-digest")')
    result = await verify_request(
        "POST", "/users/alice/inbox", headers, BODY, resolver_for(bob_keys[1])
    )
    assert result.key_owner == OWNER
    assert result.algorithm == "rsa-v1_5-sha256"
    assert result.key_host == "remote.example"


async def test_rfc9421_failures(bob_keys: tuple[str, str], mallory_keys: tuple[str, str]) -> None:
    headers = signed_9421(bob_keys[0])
    with pytest.raises(SignatureError, match="Content-Digest does not match"):
        await verify_request("POST", "/users/alice/inbox", headers, BODY + b"x",
                             resolver_for(bob_keys[1]))  # fmt: skip
    with pytest.raises(SignatureError, match="does not verify"):
        await verify_request("POST", "/users/alice/inbox", signed_9421(mallory_keys[0]), BODY,
                             resolver_for(bob_keys[1]))  # fmt: skip
    with pytest.raises(SignatureError, match="does not verify"):
        await verify_request("POST", "/users/bob/inbox", headers, BODY,
                             resolver_for(bob_keys[1]))  # fmt: skip
    stale = signed_9421(bob_keys[0], now=datetime.now(UTC) - timedelta(hours=3))
    with pytest.raises(SignatureError, match="stale"):
        await verify_request("POST", "/users/alice/inbox", stale, BODY, resolver_for(bob_keys[1]))
    bodiless = sign_request_rfc9421("POST", URL, {"Host": "local.example"}, None, KEY_ID,
                                    load_private(bob_keys[0]))  # fmt: skip
    with pytest.raises(SignatureError, match="content-digest"):
        await verify_request("POST", "/users/alice/inbox", bodiless, BODY,
                             resolver_for(bob_keys[1]))  # fmt: skip
    broken = dict(headers, **{"Signature-Input": "sig1=nope"})
    with pytest.raises(SignatureError, match="malformed"):
        await verify_request("POST", "/users/alice/inbox", broken, BODY, resolver_for(bob_keys[1]))


async def test_rfc9421_rotation_and_ed25519(
    bob_keys: tuple[str, str], mallory_keys: tuple[str, str]
) -> None:
    headers = signed_9421(bob_keys[0])
    resolve = resolver_for(mallory_keys[1], bob_keys[1])
    await verify_request("POST", "/users/alice/inbox", headers, BODY, resolve)
    assert resolve.calls == [(KEY_ID, False), (KEY_ID, True)]  # type: ignore[attr-defined]

    private = ed25519.Ed25519PrivateKey.generate()
    headers = sign_request_rfc9421("GET", URL, {"Host": "local.example"}, None, KEY_ID, private)

    async def resolve_ed(key_id: str, refresh: bool) -> ResolvedKey | None:
        return ResolvedKey(owner=OWNER, public_key=private.public_key())

    result = await verify_request("GET", "/users/alice/inbox", headers, None, resolve_ed)
    assert result.algorithm == "ed25519"


def test_parse_signature_input() -> None:
    parsed = parse_signature_input(
        'sig1=("@method" "@target-uri" "content-digest");created=1618884473;'
        'keyid="https://a.example/k";alg="rsa-v1_5-sha256", '
        'sig2=("@authority");created=1;keyid="x"'
    )
    assert set(parsed) == {"sig1", "sig2"}
    assert parsed["sig1"].components == ("@method", "@target-uri", "content-digest")
    assert parsed["sig1"].params["created"] == 1618884473
    assert parsed["sig1"].key_id == "https://a.example/k"
    assert parsed["sig1"].raw.startswith('("@method"')


def test_rfc9421_spec_vector_b26() -> None:
    """RFC 9421 appendix B.2.6 (Ed25519): our signature base reproduces the spec's."""
    from multidict import CIMultiDict

    from activitypub.httpsig.rfc9421 import signature_base

    public = load_public(
        "-----BEGIN PUBLIC KEY-----\n"
        "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n"
        "-----END PUBLIC KEY-----\n"
    )
    headers = CIMultiDict(
        {
            "Host": "example.com",
            "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
            "Content-Type": "application/json",
            "Content-Length": "18",
        }
    )
    sig_input = parse_signature_input(
        'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
        ';created=1618884473;keyid="test-key-ed25519"'
    )["sig-b26"]
    base = signature_base("POST", "/foo?param=Value&Pet=dog", headers, sig_input, "https")
    signature = base64.b64decode(
        "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
    )
    assert isinstance(public, ed25519.Ed25519PublicKey)
    public.verify(signature, base)
