"""Optional TOTP two-factor login (RFC 6238, as Mastodon and GoToSocial offer it).

Set up in two steps: ``begin`` keeps a new secret and shows it (and its ``otpauth://``
URI) to the user, ``confirm`` turns two-factor on once a code from their app matches and
hands out ten single-use recovery codes. From then on the login page and the OAuth consent
page ask for a code (``check``: a current TOTP code, each accepted once, or a recovery
code) and the OAuth password grant refuses the account, as Mastodon does.
"""

from __future__ import annotations

import hmac
import secrets
import time

from storage.models import User
from storage.store import Store

RECOVERY_CODES = 10
_STEP_S = 30
_DRIFT_STEPS = 1  # a code of the previous or the next 30 seconds is taken too (clock drift)


def new_secret() -> str:
    import pyotp  # on first use (set-up or a login with a code), not at start

    return pyotp.random_base32()


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app takes (as a QR code or text)."""
    import pyotp

    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The 30-second step whose code ``code`` is, within the allowed drift."""
    if not (len(code) == 6 and code.isdigit()):
        return None
    import pyotp

    totp = pyotp.TOTP(secret)
    here = int(now) // _STEP_S
    for step in range(here - _DRIFT_STEPS, here + _DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * _STEP_S), code):
            return step
    return None


async def enabled(store: Store, user: User) -> bool:
    return (await store.otp.state(user.id)).enabled_at is not None


async def begin(store: Store, user: User) -> str:
    """A new secret awaiting confirmation (the one being set up, if there is one)."""
    state = await store.otp.state(user.id)
    if state.enabled_at is not None:
        raise ValueError("two-factor is already on")
    if state.secret:
        return state.secret
    secret = new_secret()
    await store.otp.begin(user.id, secret)
    return secret


async def pending_secret(store: Store, user: User) -> str | None:
    state = await store.otp.state(user.id)
    return state.secret if state.enabled_at is None else None


async def confirm(store: Store, user: User, code: str, *, now: float | None = None) -> list[str]:
    """Turn two-factor on if ``code`` matches the secret being set up; the recovery codes
    to show once (empty: the code did not match)."""
    secret = await pending_secret(store, user)
    step = None if not secret else _matching_step(secret, _normalise(code), now or time.time())
    if secret is None or step is None:
        return []
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    if not await store.otp.enable(user.id, secret, codes):
        return []
    await store.otp.take_step(user.id, step)
    return codes


async def check(store: Store, user: User, code: str, *, now: float | None = None) -> bool:
    """Whether ``code`` lets this user in: a TOTP code not used before, or an unused
    recovery code (used up by this)."""
    state = await store.otp.state(user.id)
    if state.enabled_at is None or not state.secret:
        return False
    code = _normalise(code)
    step = _matching_step(state.secret, code, now or time.time())
    if step is not None:
        return await store.otp.take_step(user.id, step)
    if len(code) == 10 and all(c in "0123456789abcdef" for c in code):
        return await store.otp.use_recovery_code(user.id, code)
    return False


async def disable(store: Store, user: User) -> None:
    await store.otp.disable(user.id)
