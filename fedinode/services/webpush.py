"""Web Push on the wire: payload encryption (RFC 8291) and VAPID signatures (RFC 8292).

Encryption is ``http_ece``'s (the library pywebpush and Mastodon.py use): ``aes128gcm``
for Mastodon 4.4's ``standard`` subscriptions, the older ``aesgcm`` draft with its
``Encryption`` and ``Crypto-Key`` headers otherwise, as most apps still expect. The VAPID
JWT (ES256) is signed here with ``cryptography`` and kept per push service for an hour,
so a burst of pushes to one service signs once.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from yarl import URL

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

# The order of P-256's base point: a private key is a scalar in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
JWT_LIFETIME_SECONDS = 12 * 3600  # RFC 8292 caps ``exp`` at 24 hours
_JWT_REUSE_SECONDS = 3600
DEFAULT_TTL_SECONDS = 48 * 3600  # as Mastodon: a phone off for a weekend still hears


class BadSubscriptionKey(ValueError):
    """A subscriber's p256dh or auth value that cannot be used."""


def b64url(data: bytes, *, pad: bool = False) -> str:
    text = base64.urlsafe_b64encode(data).decode("ascii")
    return text if pad else text.rstrip("=")


def b64decode_any(value: str) -> bytes:
    """Standard or URL-safe base64, padded or not (apps send either)."""
    text = value.strip().replace("+", "-").replace("/", "_").rstrip("=")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadSubscriptionKey("not base64") from None


def subscriber_public_key(p256dh: str) -> ec.EllipticCurvePublicKey:
    """The subscriber's ECDH key; BadSubscriptionKey unless it is a P-256 point."""
    from cryptography.hazmat.primitives.asymmetric import ec

    raw = b64decode_any(p256dh)
    if len(raw) != 65 or raw[0] != 4:
        raise BadSubscriptionKey("p256dh must be an uncompressed P-256 public key")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise BadSubscriptionKey("p256dh is not a point on P-256") from None


def auth_secret(auth: str) -> bytes:
    raw = b64decode_any(auth)
    if len(raw) != 16:
        raise BadSubscriptionKey("auth must be 16 bytes")
    return raw


def audience(endpoint: str) -> str:
    """The JWT ``aud``: the push service's origin."""
    url = URL(endpoint)
    return str(url.origin())


class VapidKey:
    """The instance's VAPID key pair, loaded once per process and parsed on first use (the
    first push or the first answer that shows the public key), so that a process that
    never pushes never loads the crypto library for it."""

    __slots__ = ("_jwts", "_private_key", "_public_bytes", "_scalar")

    def __init__(self, scalar: int) -> None:
        if not 0 < scalar < _P256_ORDER:
            raise ValueError("not a P-256 private key")
        self._scalar = scalar
        self._private_key: ec.EllipticCurvePrivateKey | None = None
        self._public_bytes: bytes | None = None
        self._jwts: dict[tuple[str, str], tuple[str, float]] = {}

    @staticmethod
    def generate_secret() -> str:
        """A new private key, as kept in the database (the 32-byte scalar, base64url): a
        uniformly random scalar in [1, n - 1]."""
        scalar = secrets.randbelow(_P256_ORDER - 1) + 1
        return b64url(scalar.to_bytes(32, "big"))

    @classmethod
    def from_secret(cls, secret: str) -> VapidKey:
        return cls(int.from_bytes(b64decode_any(secret), "big"))

    @property
    def private_key(self) -> ec.EllipticCurvePrivateKey:
        if self._private_key is None:
            from cryptography.hazmat.primitives.asymmetric import ec

            self._private_key = ec.derive_private_key(self._scalar, ec.SECP256R1())
        return self._private_key

    @property
    def public_bytes(self) -> bytes:
        """The uncompressed point (65 bytes)."""
        if self._public_bytes is None:
            from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

            self._public_bytes = self.private_key.public_key().public_bytes(
                Encoding.X962, PublicFormat.UncompressedPoint
            )
        return self._public_bytes

    @property
    def public_key(self) -> str:
        """Base64url of the uncompressed point, padded, as Mastodon shows ``vapid_key``."""
        return b64url(self.public_bytes, pad=True)

    def jwt(self, aud: str, subject: str, *, now: float | None = None) -> str:
        """An ES256 JWT for the push service at ``aud``; reused while it has hours left."""
        when = time.time() if now is None else now
        cached = self._jwts.get((aud, subject))
        if cached is not None and cached[1] - when > JWT_LIFETIME_SECONDS - _JWT_REUSE_SECONDS:
            return cached[0]
        expires = int(when) + JWT_LIFETIME_SECONDS
        header = b64url(b'{"typ":"JWT","alg":"ES256"}')
        claims = b64url(
            json.dumps({"aud": aud, "exp": expires, "sub": subject}, separators=(",", ":")).encode()
        )
        signing_input = f"{header}.{claims}".encode("ascii")
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        r, s = decode_dss_signature(self.private_key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        token = f"{header}.{claims}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
        if len(self._jwts) > 1024:
            self._jwts.clear()
        self._jwts[(aud, subject)] = (token, float(expires))
        return token


def verify_jwt(token: str, public_key: str) -> dict[str, object]:
    """The claims of a VAPID JWT signed by ``public_key``; ValueError otherwise. What a push
    service does; here for tests and for operators checking a key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    head, claims, signature = token.split(".")
    raw = b64decode_any(signature)
    if len(raw) != 64:
        raise ValueError("bad signature length")
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64decode_any(public_key))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        key.verify(der, f"{head}.{claims}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("VAPID signature does not verify") from None
    found = json.loads(b64decode_any(claims))
    if not isinstance(found, dict):
        raise ValueError("claims are not an object")
    return found


@dataclass(frozen=True, slots=True)
class EncryptedPush:
    body: bytes
    headers: dict[str, str]


def encrypt(
    payload: bytes,
    *,
    p256dh: str,
    auth: str,
    standard: bool,
    vapid: VapidKey,
    endpoint: str,
    subject: str,
    ttl: int = DEFAULT_TTL_SECONDS,
) -> EncryptedPush:
    """The body and headers of one push: encrypted for the subscriber, signed by us."""
    import http_ece  # on the first push, not at start
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    receiver = subscriber_public_key(p256dh)
    secret = auth_secret(auth)
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    token = vapid.jwt(audience(endpoint), subject)
    headers = {"TTL": str(ttl), "Urgency": "normal", "Content-Type": "application/octet-stream"}
    if standard:
        body = http_ece.encrypt(
            payload,
            private_key=ephemeral,
            dh=receiver,
            auth_secret=secret,
            version="aes128gcm",
        )
        headers["Content-Encoding"] = "aes128gcm"
        headers["Authorization"] = f"vapid t={token}, k={b64url(vapid.public_bytes)}"
    else:
        salt = os.urandom(16)
        body = http_ece.encrypt(
            payload,
            salt=salt,
            private_key=ephemeral,
            dh=receiver,
            auth_secret=secret,
            keylabel="P-256",
            version="aesgcm",
        )
        server_public = ephemeral.public_key().public_bytes(
            Encoding.X962, PublicFormat.UncompressedPoint
        )
        headers["Content-Encoding"] = "aesgcm"
        headers["Encryption"] = f"salt={b64url(salt)}"
        headers["Crypto-Key"] = f"dh={b64url(server_public)};p256ecdsa={b64url(vapid.public_bytes)}"
        headers["Authorization"] = f"WebPush {token}"
    return EncryptedPush(bytes(body), headers)
