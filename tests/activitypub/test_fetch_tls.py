"""Peer sessions verify TLS: without ``ca_file`` only the system's CAs are trusted; with
one, every session made with it trusts it too (they share one context)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from activitypub.fetch import make_client_session


def _issue(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate it signed for 127.0.0.1: (CA, chain, key) paths."""
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fedinode fetch test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, chain_path, key_path = (
        directory / "ca.pem",
        directory / "leaf.pem",
        directory / "leaf.key",
    )
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM) + ca_path.read_bytes())
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, chain_path, key_path


@pytest.fixture
async def tls_peer(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """A loopback HTTPS server whose certificate only a test CA vouches for: (URL, CA path)."""
    ca_path, chain_path, key_path = _issue(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(chain_path, key_path)

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    port = runner.addresses[0][1]
    yield f"https://127.0.0.1:{port}/", ca_path
    await runner.cleanup()


async def test_a_session_without_a_ca_file_refuses_a_certificate_no_system_ca_signed(
    tls_peer: tuple[str, Path],
) -> None:
    url, _ = tls_peer
    session = make_client_session(allow_private=True)
    try:
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            async with session.get(url):
                pass
    finally:
        await session.close()


async def test_every_session_made_with_a_ca_file_trusts_it(tls_peer: tuple[str, Path]) -> None:
    url, ca_path = tls_peer
    sessions = [make_client_session(allow_private=True, ca_file=str(ca_path)) for _ in range(2)]
    try:
        for session in sessions:
            async with session.get(url) as response:
                assert response.status == 200
                assert await response.text() == "hello"
    finally:
        for session in sessions:
            await session.close()
