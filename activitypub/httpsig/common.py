"""What both signature specs share: algorithm names, the resolved key and the verified
outcome, HTTP dates and the time window, raw signing and verification with key rotation."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING, NamedTuple, cast
from urllib.parse import urlsplit

from multidict import CIMultiDict, CIMultiDictProxy

from activitypub.errors import FetchError, SignatureError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

    from activitypub.keys import PrivateKey, PublicKey

# draft-cavage algorithm names.
RSA_SHA256 = "rsa-sha256"
HS2019 = "hs2019"
ED25519 = "ed25519"
SUPPORTED_ALGORITHMS = frozenset({RSA_SHA256, HS2019, ED25519})
# RFC 9421 algorithm names.
RSA_V1_5_SHA256 = "rsa-v1_5-sha256"
RSA_PSS_SHA512 = "rsa-pss-sha512"
RFC9421_ALGORITHMS = frozenset({RSA_V1_5_SHA256, RSA_PSS_SHA512, ED25519})
# The two specs a request can be signed with (double-knocking picks one per peer).
CAVAGE = "draft-cavage"
RFC9421 = "rfc9421"

DEFAULT_MAX_SKEW = timedelta(hours=1)
# Methods whose body must be covered by a digest.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class Crypto(NamedTuple):
    """The ``cryptography`` names signing and verifying use per request (see ``crypto``)."""

    invalid_signature: type[Exception]
    rsa_private: type[rsa.RSAPrivateKey]
    rsa_public: type[rsa.RSAPublicKey]
    ed25519_public: type[ed25519.Ed25519PublicKey]
    pkcs1v15: padding.PKCS1v15
    sha256: hashes.SHA256


@cache
def crypto() -> Crypto:
    """``cryptography``'s key classes and the RSASSA-PKCS1-v1_5/SHA-256 parameters, imported
    on first use: a process that never signs or verifies does not load the package (~7 MB),
    and one that does pays the import once, not a function-level import per request."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

    # (the key classes are abstract, which mypy refuses for ``type[...]``; only ever used
    # with isinstance)
    return Crypto(
        invalid_signature=InvalidSignature,
        rsa_private=rsa.RSAPrivateKey,  # type: ignore[type-abstract]
        rsa_public=rsa.RSAPublicKey,  # type: ignore[type-abstract]
        ed25519_public=ed25519.Ed25519PublicKey,  # type: ignore[type-abstract]
        pkcs1v15=padding.PKCS1v15(),
        sha256=hashes.SHA256(),
    )


Headers = CIMultiDictProxy[str] | CIMultiDict[str]


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    """What a key resolver returns: the actor owning the key and the key object."""

    owner: str
    public_key: PublicKey


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """Outcome of a successful verification."""

    key_id: str
    key_owner: str
    key_host: str
    algorithm: str
    headers: tuple[str, ...]
    spec: str = CAVAGE  # which spec the request was signed with

    @property
    def actor(self) -> str:
        """Alias of ``key_owner``: the actor id the signing key belongs to."""
        return self.key_owner


# resolve_key(key_id, refresh) -> ResolvedKey, or None when the key is unknown.
# With refresh=True the resolver must bypass its cache (the key may have rotated).
KeyResolver = Callable[[str, bool], Awaitable[ResolvedKey | None]]


@lru_cache(maxsize=1024)
def key_id_host(key_id: str) -> str:
    """Lower-case host (without port) of a keyId URL, "" if not an http(s) URL (cached:
    the same few key ids sign most requests)."""
    try:
        parts = urlsplit(key_id)
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https"):
        return ""
    return (parts.hostname or "").lower()


def check_key_host(
    key_id: str, key_host_allowed: Callable[[str], bool] | None, *, name: str
) -> str:
    """The keyId's host, refused when it is not an http(s) URL or not allowed (checked
    before any key lookup, so a blocked host never costs a fetch)."""
    key_host = key_id_host(key_id)
    if not key_host:
        raise SignatureError(f"{name} is not an http(s) URL")
    if key_host_allowed is not None and not key_host_allowed(key_host):
        raise SignatureError("keyId host is not allowed", status=403)
    return key_host


def as_ci(headers: Mapping[str, str]) -> Headers:
    if isinstance(headers, CIMultiDictProxy | CIMultiDict):
        return headers
    return CIMultiDict(headers)


def covered_header_value(headers: Headers, name: str) -> str:
    """A signed header's value as both specs canonicalize it (repeated fields joined)."""
    values = headers.getall(name, [])
    if not values:
        raise SignatureError(f"signed header {name} is missing")
    return ", ".join(v.strip() for v in values)


# --------------------------------------------------------------------------- time


def http_date(moment: datetime | None = None) -> str:
    """An RFC 7231 IMF-fixdate (``Sat, 28 Nov 2026 13:21:35 GMT``)."""
    return format_datetime((moment or datetime.now(UTC)).astimezone(UTC), usegmt=True)


_date_cache: tuple[int, str] = (0, "")


def http_date_now() -> str:
    """``http_date()`` for now, formatted once per second."""
    global _date_cache
    second = int(time.time())
    if _date_cache[0] != second:
        _date_cache = (second, http_date(datetime.fromtimestamp(second, UTC)))
    return _date_cache[1]


@lru_cache(maxsize=256)
def _http_date_value(value: str) -> datetime:
    """A Date header's moment (cached: concurrent requests carry the same second)."""
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        raise SignatureError("Date header is not an HTTP date") from None
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return date


def check_created(created: int, now: datetime, max_skew: timedelta) -> None:
    """A signature's ``created`` must lie within ``max_skew`` of now."""
    moment = datetime.fromtimestamp(created, UTC)
    if moment > now + max_skew:
        raise SignatureError("signature created in the future")
    if moment < now - max_skew:
        raise SignatureError("signature is stale (created too long ago)")


def check_expires(expires: int, now: datetime) -> None:
    if expires < now.timestamp():
        raise SignatureError("signature has expired")


def check_date_header(headers: Headers, now: datetime, max_skew: timedelta) -> None:
    """The Date header must be present and within ``max_skew`` of now."""
    value = headers.get("Date")
    if value is None:
        raise SignatureError("missing Date header")
    date = _http_date_value(value)
    if date > now + max_skew:
        raise SignatureError("Date header is in the future")
    if date < now - max_skew:
        raise SignatureError("Date header is stale")


# --------------------------------------------------------------------------- keys


def sign_bytes(private_key: PrivateKey, data: bytes) -> bytes:
    """The raw signature of a signing string (RSASSA-PKCS1-v1_5 SHA-256, or Ed25519)."""
    c = crypto()
    if isinstance(private_key, c.rsa_private):
        return private_key.sign(data, c.pkcs1v15, c.sha256)
    return cast("ed25519.Ed25519PrivateKey", private_key).sign(data)


def _verify_bytes(key: PublicKey, algorithm: str, signature: bytes, data: bytes) -> bool:
    c = crypto()
    try:
        if isinstance(key, c.rsa_public):
            if algorithm == ED25519:
                raise SignatureError("key type does not match algorithm")
            if algorithm == RSA_PSS_SHA512:
                from cryptography.hazmat.primitives import hashes
                from cryptography.hazmat.primitives.asymmetric import padding

                key.verify(
                    signature,
                    data,
                    padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64),
                    hashes.SHA512(),
                )
            else:
                key.verify(signature, data, c.pkcs1v15, c.sha256)
        elif isinstance(key, c.ed25519_public):
            if algorithm in (RSA_SHA256, RSA_V1_5_SHA256, RSA_PSS_SHA512):
                raise SignatureError("key type does not match algorithm")
            key.verify(signature, data)
        else:
            raise SignatureError("unsupported key type")
    except c.invalid_signature:
        return False
    return True


async def _resolve(resolve_key: KeyResolver, key_id: str, refresh: bool) -> ResolvedKey:
    try:
        resolved = await resolve_key(key_id, refresh)
    except SignatureError:
        raise
    except FetchError as exc:
        raise SignatureError("signing key could not be fetched", detail=str(exc)) from exc
    if resolved is None:
        raise SignatureError("unknown signing key")
    return resolved


def _same_key(a: PublicKey, b: PublicKey) -> bool:
    if a is b:
        return True
    rsa_public = crypto().rsa_public
    if isinstance(a, rsa_public) and isinstance(b, rsa_public):
        return a.public_numbers() == b.public_numbers()
    return False


async def verify_with_key(
    resolve_key: KeyResolver, key_id: str, algorithm: str, signature: bytes, data: bytes
) -> ResolvedKey:
    """Resolve the key and verify; on failure refresh the key once (rotation)."""
    resolved = await _resolve(resolve_key, key_id, False)
    if _verify_bytes(resolved.public_key, algorithm, signature, data):
        return resolved
    fresh = await _resolve(resolve_key, key_id, True)
    if _same_key(fresh.public_key, resolved.public_key) or not _verify_bytes(
        fresh.public_key, algorithm, signature, data
    ):
        raise SignatureError("signature does not verify")
    return fresh
