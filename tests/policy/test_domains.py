"""The compiled domain matcher and domain normalisation."""

from __future__ import annotations

import pytest

from policy.domains import DomainMatcher, normalize_host, split_port
from policy.errors import PolicyConfigError
from policy.settings import normalize_domain

PATTERNS = [
    ("spam.example", "exact"),
    ("*.wild.example", "wild"),
    ("deep.wild.example", "deep"),
    ("*.x.deep.wild.example", "x-deep"),
    ("xn--bcher-kva.example", "idn"),
    ("localhost:8081", "port-8081"),
    ("*.ports.example:8443", "port-wild"),
]


@pytest.fixture
def matcher() -> DomainMatcher[str]:
    return DomainMatcher(PATTERNS)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("spam.example", "exact"),
        ("SPAM.Example", "exact"),
        ("spam.example.", "exact"),
        ("spam.example:443", "exact"),
        ("sub.spam.example", None),  # exact does not cover subdomains
        ("notspam.example", None),
        ("wild.example", "wild"),  # *.x matches x itself, like Mastodon
        ("a.wild.example", "wild"),
        ("a.b.c.wild.example", "wild"),
        ("a.wild.example:8080", "wild"),
        ("mywild.example", None),
        ("deep.wild.example", "deep"),  # most specific wins
        ("a.deep.wild.example", "wild"),  # exact deep does not cover a.deep
        ("x.deep.wild.example", "x-deep"),
        ("y.x.deep.wild.example", "x-deep"),
        ("bücher.example", "idn"),
        ("BÜCHER.example", "idn"),
        ("xn--bcher-kva.example", "idn"),
        ("localhost:8081", "port-8081"),
        ("localhost:8082", None),
        ("localhost", None),
        ("a.ports.example:8443", "port-wild"),
        ("a.ports.example:443", None),
        ("", None),
        ("example", None),
    ],
)
def test_lookup(matcher: DomainMatcher[str], host: str, expected: str | None) -> None:
    assert matcher.lookup(host) == expected


def test_empty_matcher() -> None:
    assert DomainMatcher[str]().lookup("anything.example") is None


def test_thousand_patterns_are_dict_lookups() -> None:
    patterns = [(f"*.spam{i}.example", i) for i in range(500)]
    patterns += [(f"host{i}.example", 1000 + i) for i in range(500)]
    m = DomainMatcher(patterns)
    assert len(m) == 1000
    assert m.lookup("a.b.spam499.example") == 499
    assert m.lookup("spam0.example") == 0
    assert m.lookup("host250.example") == 1250
    assert m.lookup("host250.example.org") is None
    # A lookup costs a few dict probes (one per label of the host), however many patterns
    # there are: count them rather than time them.
    probes = 0

    class Counting(dict[str, int]):
        def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
            nonlocal probes
            probes += 1
            return super().get(key, default)

    m._exact, m._wildcard = Counting(m._exact), Counting(m._wildcard)
    assert m.lookup("deep.sub.domain.of.nobody.example") is None
    assert probes <= 2 * len("deep.sub.domain.of.nobody.example".split(".")) + 1
    assert m.lookup("a.b.spam499.example") == 499


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Example.ORG", "example.org"),
        ("example.org.", "example.org"),
        ("*.Example.org", "*.example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("日本.example", "xn--wgv71a.example"),
        ("localhost:8080", "localhost:8080"),
        ("  spaced.example  ", "spaced.example"),
    ],
)
def test_normalize_domain(value: str, expected: str) -> None:
    assert normalize_domain(value) == expected


@pytest.mark.parametrize(
    "value",
    ["", "*.", "exa mple.org", "http://x.example/", "x.example:99999", "-bad.example",
     "x." * 126 + "example"],  # fmt: skip  (the last: 259 characters, longer than DNS allows)
)
def test_normalize_domain_rejects(value: str) -> None:
    with pytest.raises(PolicyConfigError) as info:
        normalize_domain(value, "policy.domain_blocks[0].domain")
    assert str(info.value).startswith("policy.domain_blocks[0].domain: ")


def test_the_longest_domain_dns_allows_is_taken() -> None:
    longest = "x." * 125 + "abc"  # 253 characters
    assert normalize_domain(longest) == longest


def test_host_helpers() -> None:
    assert split_port("a.example:8080") == ("a.example", ":8080")
    assert split_port("[::1]") == ("[::1]", "")
    assert normalize_host("Bücher.Example.:8080") == "xn--bcher-kva.example:8080"
