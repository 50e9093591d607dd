from __future__ import annotations

import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from activitypub.errors import RefusedAddress
from activitypub.netguard import GuardedResolver, address_allowed, check_url

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "::1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "fe80::1",
    "fc00::1",
    "::",
    "2002:7f00:1::",
    "64:ff9b::7f00:1",
    "not-an-ip",
]
PUBLIC = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"]


@pytest.mark.parametrize("ip", REFUSED)
def test_refused(ip: str) -> None:
    assert not address_allowed(ip, allow_private=False)


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_allowed(ip: str) -> None:
    assert address_allowed(ip, allow_private=False)


@pytest.mark.parametrize("ip", ["127.0.0.1", "::1", "10.0.0.1", "::ffff:127.0.0.1"])
def test_allow_private(ip: str) -> None:
    assert address_allowed(ip, allow_private=True)


def test_multicast_never() -> None:
    assert not address_allowed("224.0.0.1", allow_private=True)


def test_check_url_scheme() -> None:
    check_url("https://93.184.216.34/x", "https")
    with pytest.raises(RefusedAddress, match="scheme"):
        check_url("http://example.org/x", "https")
    check_url("http://example.org/x", "http")
    check_url("https://example.org/x", "http")
    with pytest.raises(RefusedAddress, match="scheme"):
        check_url("file:///etc/passwd", "http")
    with pytest.raises(RefusedAddress, match="scheme"):
        check_url("gopher://example.org/", "http")


def test_check_url_literals() -> None:
    for url in ["https://127.0.0.1/", "https://[::1]:8443/", "https://10.1.1.1/",
                "https://[::ffff:127.0.0.1]/", "https://localhost/", "https://a.localhost/"]:
        with pytest.raises(RefusedAddress):
            check_url(url, "https", allow_private=False)
        check_url(url, "https", allow_private=True)
    with pytest.raises(RefusedAddress, match="no host"):
        check_url("https:///nohost", "https")


class FakeResolver(AbstractResolver):
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=ip, port=port, family=family, proto=0, flags=0)
            for ip in self.answers[host]
        ]

    async def close(self) -> None:
        return None


async def test_resolver_filters_after_dns() -> None:
    fake = FakeResolver(
        {
            "evil.example": ["127.0.0.1"],
            "mixed.example": ["10.0.0.1", "93.184.216.34"],
            "good.example": ["93.184.216.34"],
        }
    )
    guarded = GuardedResolver(allow_private=False, inner=fake)
    with pytest.raises(RefusedAddress) as info:
        await guarded.resolve("evil.example", 443)
    assert isinstance(info.value, OSError)
    mixed = await guarded.resolve("mixed.example", 443)
    assert [r["host"] for r in mixed] == ["93.184.216.34"]
    assert len(await guarded.resolve("good.example", 443)) == 1
    with pytest.raises(RefusedAddress):
        await guarded.resolve("127.0.0.1", 443)
    permissive = GuardedResolver(allow_private=True, inner=fake)
    assert len(await permissive.resolve("evil.example", 443)) == 1
