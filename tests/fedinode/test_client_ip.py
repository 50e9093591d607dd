"""The client address behind trusted proxies (fedinode.client_ip)."""

from __future__ import annotations

import pytest

from fedinode.client_ip import UNKNOWN, Networks, bucket, parse_address, resolve

LOOPBACK = Networks(["127.0.0.1", "::1"])
CHAIN = Networks(["127.0.0.1", "10.0.0.0/8", "fd00::/8"])


def test_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert resolve("198.51.100.7", ["203.0.113.1"], LOOPBACK) == "198.51.100.7"
    assert resolve("198.51.100.7", ["127.0.0.1"], LOOPBACK) == "198.51.100.7"
    assert resolve("127.0.0.1", ["203.0.113.1"], Networks([])) == "127.0.0.1"


def test_trusted_peer_forwards_the_client() -> None:
    assert resolve("127.0.0.1", ["203.0.113.1"], LOOPBACK) == "203.0.113.1"
    assert resolve("::1", ["2001:db8::5"], LOOPBACK) == "2001:db8::5"
    assert resolve("127.0.0.1", [], LOOPBACK) == "127.0.0.1"


def test_what_the_client_wrote_left_of_the_first_untrusted_hop_is_ignored() -> None:
    # The client sent "X-Forwarded-For: 1.1.1.1, 10.0.0.9"; our proxy appended its peer.
    spoofed = ["1.1.1.1, 10.0.0.9, 203.0.113.1"]
    assert resolve("127.0.0.1", spoofed, CHAIN) == "203.0.113.1"
    assert resolve("127.0.0.1", spoofed, LOOPBACK) == "203.0.113.1"


def test_several_trusted_hops_are_skipped_cidrs_included() -> None:
    chain = ["203.0.113.1, 10.1.2.3", "10.9.9.9"]  # two header lines: one list, in order
    assert resolve("127.0.0.1", chain, CHAIN) == "203.0.113.1"
    assert resolve("fd00::1", ["2001:db8::1, fd12::3"], CHAIN) == "2001:db8::1"
    # All hops trusted: the leftmost is as close to the client as we can know.
    assert resolve("127.0.0.1", ["10.0.0.1, 10.0.0.2"], CHAIN) == "10.0.0.1"


def test_garbage_from_a_trusted_proxy_stops_at_that_proxy() -> None:
    assert resolve("127.0.0.1", ["unknown"], LOOPBACK) == "127.0.0.1"
    assert resolve("127.0.0.1", ["unknown, 10.0.0.2"], CHAIN) == "10.0.0.2"
    assert resolve("127.0.0.1", ["nonsense, 203.0.113.1"], LOOPBACK) == "203.0.113.1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("203.0.113.1", "203.0.113.1"),
        (" 203.0.113.1:4711 ", "203.0.113.1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("unknown", None),
        ("", None),
        ("_hidden", None),
    ],
)
def test_parse_address(text: str, expected: str | None) -> None:
    parsed = parse_address(text)
    assert (None if parsed is None else str(parsed)) == expected


def test_ipv4_mapped_peer_matches_an_ipv4_proxy() -> None:
    assert resolve("::ffff:127.0.0.1", ["203.0.113.1"], LOOPBACK) == "203.0.113.1"


def test_no_peer_address() -> None:
    assert resolve(None, ["203.0.113.1"], LOOPBACK) == UNKNOWN
    assert resolve("", ["203.0.113.1"], LOOPBACK) == UNKNOWN


def test_ipv6_counts_by_64() -> None:
    assert bucket("2001:db8:1:2:aaaa::1") == bucket("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert bucket("2001:db8:1:3::1") != bucket("2001:db8:1:2::1")
    assert bucket("203.0.113.1") == "203.0.113.1"
