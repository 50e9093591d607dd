from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from activitypub.keys import LRU, KeyCache, generate_keypair, load_private, load_public


@pytest.fixture(scope="module")
def pair() -> tuple[str, str]:
    return generate_keypair()


def test_generate(pair: tuple[str, str]) -> None:
    private_pem, public_pem = pair
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    key = load_private(private_pem)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048
    public = load_public(public_pem)
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.public_numbers() == key.public_key().public_numbers()


def test_load_is_cached(pair: tuple[str, str]) -> None:
    assert load_private(pair[0]) is load_private(pair[0])
    assert load_public(pair[1]) is load_public(pair[1])


def test_load_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        load_public("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----")


def test_key_cache(pair: tuple[str, str]) -> None:
    cache = KeyCache(maxsize=2)
    first = cache.public("https://a/k1", pair[1])
    start = time.perf_counter()
    for _ in range(1000):
        assert cache.public("https://a/k1", pair[1]) is first
    assert time.perf_counter() - start < 0.05  # no PEM parsing per call
    assert cache.get_public("https://a/k1") is first
    cache.forget("https://a/k1")
    assert cache.get_public("https://a/k1") is None
    private = cache.private("https://local/actor#main-key", pair[0])
    assert isinstance(private, rsa.RSAPrivateKey)


def test_key_cache_rotation(pair: tuple[str, str]) -> None:
    other = generate_keypair()
    cache = KeyCache()
    old = cache.public("https://a/k", pair[1])
    new = cache.public("https://a/k", other[1])
    assert old is not new
    assert cache.get_public("https://a/k") is new


def test_lru_bound() -> None:
    lru: LRU[int] = LRU(maxsize=2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # a is now most recent
    lru.put("c", 3)
    assert "b" not in lru
    assert lru.get("a") == 1 and lru.get("c") == 3
    assert len(lru) == 2
