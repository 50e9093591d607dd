"""The VAPID key: made without the crypto library, parsed on first use, signing JWTs that
verify with the public key apps are shown."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from fedinode.services.webpush import VapidKey, b64url, verify_jwt


def test_a_new_key_signs_jwts_that_verify_with_its_public_key() -> None:
    key = VapidKey.from_secret(VapidKey.generate_secret())
    token = key.jwt("https://push.example", "mailto:admin@example.org", now=1_000_000.0)
    claims = verify_jwt(token, key.public_key)
    assert claims == {"aud": "https://push.example", "exp": 1_000_000 + 12 * 3600,
                      "sub": "mailto:admin@example.org"}  # fmt: skip
    raw = base64.urlsafe_b64decode(key.public_key)
    assert len(raw) == 65 and raw[0] == 4
    other = VapidKey.from_secret(VapidKey.generate_secret())
    assert other.public_key != key.public_key
    with pytest.raises(ValueError):
        verify_jwt(token, other.public_key)


def test_a_key_kept_by_an_earlier_release_loads_to_the_same_public_key() -> None:
    made = ec.generate_private_key(ec.SECP256R1())
    secret = b64url(made.private_numbers().private_value.to_bytes(32, "big"))
    expected = made.public_key().public_numbers()
    raw = base64.urlsafe_b64decode(VapidKey.from_secret(secret).public_key)
    assert int.from_bytes(raw[1:33], "big") == expected.x
    assert int.from_bytes(raw[33:], "big") == expected.y


@pytest.mark.parametrize("scalar", [0, 2**256 - 1])
def test_a_kept_secret_that_is_no_p256_key_is_refused(scalar: int) -> None:
    with pytest.raises(ValueError):
        VapidKey.from_secret(b64url(scalar.to_bytes(32, "big")))
