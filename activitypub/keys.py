"""Key material: generation, PEM loading (cached), and a bounded key-object cache.

Parsing a PEM must never happen per request (a public key costs ~10 µs, a private key
~40 µs without the RSA consistency check, 36–150 ms with it): keys are parsed once and
kept as key objects, here or in ``KeyCache``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import lru_cache
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from typing import TypeAlias

    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    # Type-only: ``cryptography`` is imported where a key is made, parsed or used, so an
    # idle process that never signs or verifies does not load it.
    PublicKey: TypeAlias = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
    PrivateKey: TypeAlias = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

_V = TypeVar("_V")


def generate_keypair(bits: int = 2048) -> tuple[str, str]:
    """A new RSA key pair as (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return private_pem, public_pem_of(key)


def public_pem_of(key: PrivateKey | PublicKey) -> str:
    """The SubjectPublicKeyInfo PEM of a key (private keys give their public half)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    public: PublicKey
    if isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        public = key.public_key()
    else:
        public = key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


@lru_cache(maxsize=256)
def load_private(pem: str) -> PrivateKey:
    """Parse a private PEM once (cached); raises ValueError for unsupported keys.

    Private keys are only ever our own (made by ``generate_keypair``, kept in our
    database), so the RSA consistency check is skipped: it is what made loading cost
    36–150 ms (blocking the event loop for a sender's first delivery); without it a
    load costs about 40 µs. Never use this for a key that came from elsewhere.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    key = serialization.load_pem_private_key(
        pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError("unsupported private key type")
    return key


@lru_cache(maxsize=4096)
def load_public(pem: str) -> PublicKey:
    """Parse a public PEM once (cached); PKCS#1 "RSA PUBLIC KEY" PEMs are accepted too."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise ValueError("unsupported public key type")
    return key


class LRU(Generic[_V]):
    """A small thread-safe LRU mapping with a size bound."""

    def __init__(self, maxsize: int = 1024) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be >= 1")
        self._maxsize = maxsize
        self._data: OrderedDict[str, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> _V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: str, value: _V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def pop(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data


class KeyCache:
    """Key objects by key id (LRU, bounded); the PEM is parsed only when it changes."""

    def __init__(self, maxsize: int = 4096) -> None:
        self._public: LRU[tuple[str, PublicKey]] = LRU(maxsize)
        self._private: LRU[tuple[str, PrivateKey]] = LRU(maxsize)

    def public(self, key_id: str, pem: str) -> PublicKey:
        """The public key object for ``key_id``; re-parsed only if ``pem`` changed."""
        cached = self._public.get(key_id)
        if cached is not None and cached[0] == pem:
            return cached[1]
        key = load_public(pem)
        self._public.put(key_id, (pem, key))
        return key

    def private(self, key_id: str, pem: str) -> PrivateKey:
        """The private key object for ``key_id``; re-parsed only if ``pem`` changed."""
        cached = self._private.get(key_id)
        if cached is not None and cached[0] == pem:
            return cached[1]
        key = load_private(pem)
        self._private.put(key_id, (pem, key))
        return key

    def get_public(self, key_id: str) -> PublicKey | None:
        """The cached public key object, if any (no parsing)."""
        cached = self._public.get(key_id)
        return cached[1] if cached is not None else None

    def forget(self, key_id: str) -> None:
        """Drop a key id (e.g. after rotation)."""
        self._public.pop(key_id)
        self._private.pop(key_id)

    def __len__(self) -> int:
        return len(self._public) + len(self._private)


# -- Multikey (FEP-521a / W3C Controlled Identifiers) ------------------------------------

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
# multicodec prefixes (unsigned varints): ed25519-pub 0xed → ed 01, ed25519-priv 0x1300 → 80 26
_ED25519_PUB = b"\xed\x01"
_ED25519_PRIV = b"\x80\x26"


def b58encode(data: bytes) -> str:
    """Base58 (Bitcoin alphabet)."""
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rest = divmod(number, 58)
        out.append(_B58_ALPHABET[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Base58 (Bitcoin alphabet); raises ValueError on a character outside it."""
    if len(text) > 1024:
        raise ValueError("base58 text too long")
    number = 0
    for char in text:
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise ValueError("not base58btc")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multibase_decode(value: str) -> bytes:
    """Bytes of a multibase string; only base58btc (prefix ``z``) is supported."""
    if not value.startswith("z"):
        raise ValueError("only base58btc ('z') multibase is supported")
    return b58decode(value[1:])


def multibase_encode(data: bytes) -> str:
    return "z" + b58encode(data)


def parse_multikey(public_key_multibase: str) -> ed25519.Ed25519PublicKey:
    """The Ed25519 public key of a Multikey's ``publicKeyMultibase`` (z + 0xed01 + 32 bytes)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    raw = multibase_decode(public_key_multibase)
    if not raw.startswith(_ED25519_PUB) or len(raw) != 34:
        raise ValueError("not an Ed25519 Multikey")
    return ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])


def multikey_of(key: ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey) -> str:
    """The ``publicKeyMultibase`` of an Ed25519 key (private keys give their public half)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    public = key.public_key() if isinstance(key, ed25519.Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return multibase_encode(_ED25519_PUB + raw)


def parse_private_multikey(secret_key_multibase: str) -> ed25519.Ed25519PrivateKey:
    """An Ed25519 private key from its multibase form (z + 0x8026 + 32 bytes)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519

    raw = multibase_decode(secret_key_multibase)
    if not raw.startswith(_ED25519_PRIV) or len(raw) != 34:
        raise ValueError("not an Ed25519 private Multikey")
    return ed25519.Ed25519PrivateKey.from_private_bytes(raw[2:])
