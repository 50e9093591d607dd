"""Password hashing with scrypt (memory-hard, in the standard library).

A stored hash names its own cost (``scrypt$N$r$p$salt$digest``), so hashes made under an
older ``[passwords]`` cost keep verifying; ``needs_rehash`` tells a login to store a new one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fedinode.config import PasswordsConfig

MIN_LENGTH = 8
# Longer passwords only make each login hash more bytes; Mastodon stops at 72 (bcrypt's limit).
MAX_LENGTH = 1024
# The most memory one hash may take (128·r·(N+p+2) bytes); also what a stored hash is
# allowed to ask for, so a corrupt row cannot make a login allocate gigabytes.
MAX_MEMORY = 1 << 30


@dataclass(frozen=True, slots=True)
class ScryptCost:
    """scrypt's work factors: N (CPU and memory, a power of two), r (block size), p."""

    n: int = 2**14
    r: int = 8
    p: int = 1

    @property
    def memory(self) -> int:
        return 128 * self.r * (self.n + self.p + 2)

    def problem(self) -> str | None:
        """Why these factors cannot be used, or None."""
        if self.n < 2 or self.n & (self.n - 1):
            return f"N must be a power of two of at least 2, got {self.n}"
        if self.r < 1 or self.p < 1:
            return "r and p must be at least 1"
        if self.memory > MAX_MEMORY:
            return f"needs {self.memory} bytes of memory per hash; at most {MAX_MEMORY}"
        return None


DEFAULT_COST = ScryptCost()


def cost_from_config(section: PasswordsConfig) -> ScryptCost:
    return ScryptCost(n=section.scrypt_n, r=section.scrypt_r, p=section.scrypt_p)


def _scrypt(password: str, salt: bytes, cost: ScryptCost, dklen: int) -> bytes:
    return hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        dklen=dklen,
        maxmem=cost.memory + (1 << 20),
    )


def hash_password(password: str, cost: ScryptCost = DEFAULT_COST) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, cost, 32)
    return (
        f"scrypt${cost.n}${cost.r}${cost.p}$"
        f"{base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    )


def _parse(stored: str) -> tuple[ScryptCost, bytes, bytes] | None:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return None
        cost = ScryptCost(n=int(n), r=int(r), p=int(p))
        salt = base64.b64decode(salt_b64, validate=True)
        digest = base64.b64decode(digest_b64, validate=True)
    except (ValueError, binascii.Error):
        return None
    if cost.problem() is not None or not salt or not digest:
        return None
    return cost, salt, digest


def verify_password(password: str, stored: str) -> bool:
    parsed = _parse(stored)
    if parsed is None:
        return False
    cost, salt, expected = parsed
    return hmac.compare_digest(_scrypt(password, salt, cost, len(expected)), expected)


def needs_rehash(stored: str, cost: ScryptCost) -> bool:
    """The stored hash was made with other factors than ``cost`` (or is unreadable)."""
    parsed = _parse(stored)
    return parsed is None or parsed[0] != cost


def dummy_hash(cost: ScryptCost) -> str:
    """A hash nothing matches, at ``cost``: checking a login that does not exist takes as
    long as checking one that does."""
    zeros = base64.b64encode(bytes(16)).decode()
    return f"scrypt${cost.n}${cost.r}${cost.p}${zeros}${base64.b64encode(bytes(32)).decode()}"
