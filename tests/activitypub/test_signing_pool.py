"""The signing pool: signatures made in worker processes verify like local ones."""

from __future__ import annotations

import asyncio

import pytest

from activitypub.keys import generate_keypair, load_private, load_public
from activitypub.signatures import (
    ResolvedKey,
    prepare_signature,
    sign_bytes,
    sign_request,
    verify_request,
)
from activitypub.signing import SigningPool

KEY_ID = "https://local.example/users/alice#main-key"
OWNER = "https://local.example/users/alice"
URL = "https://remote.example/users/bob/inbox"
BODY = b'{"type":"Create","actor":"https://local.example/users/alice"}'


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return generate_keypair()


async def test_pool_signatures_verify(keys: tuple[str, str]) -> None:
    private_pem, public_pem = keys
    pool = SigningPool(2)
    try:
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
            headers = pending.complete(signature)
            verified = await verify_request(
                "POST", f"/users/bob/inbox?n={i}", headers, BODY, resolve
            )
            assert verified.key_owner == OWNER
    finally:
        await pool.close()


async def test_prepare_then_complete_equals_sign_request(keys: tuple[str, str]) -> None:
    private_pem, _ = keys
    local = load_private(private_pem)
    headers = {"Date": "Sat, 28 Nov 2026 13:21:35 GMT"}
    pending = prepare_signature("POST", URL, headers, BODY, KEY_ID)
    assert pending.complete(sign_bytes(local, pending.data)) == sign_request(
        "POST", URL, headers, BODY, KEY_ID, local
    )


async def test_dead_worker_falls_back_to_local_signing(keys: tuple[str, str]) -> None:
    private_pem, _ = keys
    pool = SigningPool(1)
    try:
        await pool.warm_up()
        for worker in pool._workers:
            worker.process.kill()
            await worker.process.wait()
        signature = await pool.sign(KEY_ID, private_pem, b"data")
        assert signature == sign_bytes(load_private(private_pem), b"data")
        # …and the next batch is signed by a fresh worker.
        again = await pool.sign(KEY_ID, private_pem, b"more")
        assert again == sign_bytes(load_private(private_pem), b"more")
    finally:
        await pool.close()


async def test_closed_pool_signs_in_the_loop(keys: tuple[str, str]) -> None:
    private_pem, _ = keys
    pool = SigningPool(1)
    await pool.close()
    signature = await pool.sign(KEY_ID, private_pem, b"x")
    assert signature == sign_bytes(load_private(private_pem), b"x")


async def test_bad_key_fails_only_its_delivery(keys: tuple[str, str]) -> None:
    private_pem, _ = keys
    pool = SigningPool(1)
    try:
        good = pool.sign(KEY_ID, private_pem, b"ok")
        bad = pool.sign("https://local.example/users/bad#main-key", "not a pem", b"no")
        results = await asyncio.gather(good, bad, return_exceptions=True)
        assert results[0] == sign_bytes(load_private(private_pem), b"ok")
        assert isinstance(results[1], ValueError)
    finally:
        await pool.close()


async def test_a_worker_holding_two_batches_answers_each_in_order(keys: tuple[str, str]) -> None:
    private_pem, _ = keys
    local = load_private(private_pem)
    pool = SigningPool(1)
    pool.max_batch = 4
    try:
        await pool.warm_up()
        data = [f"signing string {i}".encode() for i in range(30)]
        signatures = await asyncio.gather(*(pool.sign(KEY_ID, private_pem, d) for d in data))
        assert signatures == [sign_bytes(local, d) for d in data]
        assert pool.batches >= 8
    finally:
        await pool.close()


async def test_batches_in_the_hands_of_a_dying_worker_are_signed_in_the_loop(
    keys: tuple[str, str],
) -> None:
    private_pem, _ = keys
    local = load_private(private_pem)
    pool = SigningPool(1)
    pool.max_batch = 4
    try:
        await pool.warm_up()
        [worker] = pool._workers
        data = [f"signing string {i}".encode() for i in range(12)]
        signing = [asyncio.ensure_future(pool.sign(KEY_ID, private_pem, d)) for d in data]
        for _ in range(3):  # the signing requests, their dispatch, the batches' writes
            await asyncio.sleep(0)
        assert worker.outstanding == 2  # two batches in its hands
        worker.process.kill()
        assert await asyncio.gather(*signing) == [sign_bytes(local, d) for d in data]
    finally:
        await pool.close()
