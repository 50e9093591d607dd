"""Signing threads: signatures made off the event loop's thread verify like local ones,
travel in batches, and a bad key fails its own delivery only."""

from __future__ import annotations

import asyncio

import pytest

from activitypub.keys import generate_keypair, load_private, load_public
from activitypub.signatures import ResolvedKey, prepare_signature, sign_bytes, verify_request
from activitypub.signing import SigningThreads

KEY_ID = "https://local.example/users/alice#main-key"
OWNER = "https://local.example/users/alice"
URL = "https://remote.example/users/bob/inbox"
BODY = b'{"type":"Create","actor":"https://local.example/users/alice"}'


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_keypair()


async def test_thread_signatures_verify_and_travel_together(keys: tuple[str, str]) -> None:
    private_pem, public_pem = keys
    pool = SigningThreads(2)
    try:
        await pool.warm_up()
        pendings = [prepare_signature("POST", f"{URL}?n={i}", {}, BODY, KEY_ID) for i in range(40)]
        signatures = await asyncio.gather(
            *(pool.sign(KEY_ID, private_pem, p.data) for p in pendings)
        )
        assert pool.signed == 40
        assert pool.batches < 40  # requests made together travel together
        local = load_private(private_pem)
        public = load_public(public_pem)

        async def resolve(key_id: str, refresh: bool) -> ResolvedKey:
            return ResolvedKey(owner=OWNER, public_key=public)

        for i, (pending, signature) in enumerate(zip(pendings, signatures, strict=True)):
            assert signature == sign_bytes(local, pending.data)  # PKCS#1 v1.5 is deterministic
            verified = await verify_request(
                "POST", f"/users/bob/inbox?n={i}", pending.complete(signature), BODY, resolve
            )
            assert verified.key_owner == OWNER
    finally:
        await pool.close()


async def test_a_bad_key_fails_its_own_signature_only(keys: tuple[str, str]) -> None:
    private_pem, _ = keys
    pool = SigningThreads(2)
    try:
        good = pool.sign(KEY_ID, private_pem, b"one")
        bad = pool.sign("https://local.example/users/eve#main-key", "not a key", b"two")
        results = await asyncio.gather(good, bad, return_exceptions=True)
        assert results[0] == sign_bytes(load_private(private_pem), b"one")
        assert isinstance(results[1], Exception)
    finally:
        await pool.close()


async def test_close_signs_what_was_asked_before_it(keys: tuple[str, str]) -> None:
    private_pem, _ = keys
    pool = SigningThreads(1)
    waiting = [asyncio.ensure_future(pool.sign(KEY_ID, private_pem, bytes([i]))) for i in range(5)]
    await asyncio.sleep(0)
    await pool.close()
    assert [len(await w) for w in waiting] == [len(sign_bytes(load_private(private_pem), b"x"))] * 5
