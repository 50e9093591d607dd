"""The instance actor's first key pair, made in a child process (or, failing that, here)."""

from __future__ import annotations

import sys

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from activitypub.federation import keypair_apart
from activitypub.keys import load_private, load_public


def _a_working_pair(private_pem: str, public_pem: str) -> None:
    private, public = load_private(private_pem), load_public(public_pem)
    assert isinstance(private, rsa.RSAPrivateKey) and isinstance(public, rsa.RSAPublicKey)
    assert private.key_size == 2048
    signature = private.sign(b"hello", padding.PKCS1v15(), hashes.SHA256())
    public.verify(signature, b"hello", padding.PKCS1v15(), hashes.SHA256())


async def test_a_key_pair_is_made_in_a_child_process() -> None:
    first, second = await keypair_apart(), await keypair_apart()
    _a_working_pair(*first)
    assert first != second


async def test_without_a_child_the_pair_is_made_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    _a_working_pair(*await keypair_apart())


async def test_a_child_that_answers_nonsense_is_not_believed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import activitypub.federation

    monkeypatch.setattr(activitypub.federation, "_KEYPAIR_SCRIPT", "print('[1, 2]')")
    _a_working_pair(*await keypair_apart())
