"""Spellings of a suspended host that must not slip past the domain matcher."""

from __future__ import annotations

import pytest

from activitypub.convert import authority_of
from policy.pipeline import Pipeline
from policy.settings import settings_from_mapping

PIPELINE = Pipeline(settings_from_mapping("open", {"domain_blocks": [
    {"domain": "*.evil.example.org", "severity": "suspend"},
    {"domain": "bücher.example", "severity": "suspend"},
]}))  # fmt: skip


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.org/x",
        "https://evil.example.org./x",
        "https://EVIL.Example.ORG/x",
        "https://a.b.evil.example.org/x",
        "https://a.evil.example.org.:8443/x",
        "https://evil.example.org:443/x",
        "https://user@evil.example.org/x",
        "https://xn--bcher-kva.example/x",
        "https://bücher.example/x",
        "https://BÜCHER.example./x",
        "https://ｅｖｉｌ.example.org/x",
    ],
)
@pytest.mark.parametrize("direction", ["inbound", "outbound", "fetch"])
def test_suspended_host_spellings_are_refused(url: str, direction: str) -> None:
    host = authority_of(url)
    assert host, url
    assert not PIPELINE.check_host(host, direction).allowed  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url", ["https://notevil.example.org/x", "https://evil.example.org.good.example/x"]
)
def test_lookalikes_are_not_caught(url: str) -> None:
    assert PIPELINE.check_host(authority_of(url), "inbound").allowed
