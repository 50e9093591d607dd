"""authority_of: the plain-URL shortcut answers what yarl answers, for every URL."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from activitypub.convert.origins import _plain_authority, authority_of, same_origin


def through_yarl(url: str) -> str:
    """What authority_of answered before it had a shortcut."""
    try:
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            return ""
        return (parsed.host_port_subcomponent or "").lower()
    except (ValueError, TypeError):
        return ""


labels = st.text(alphabet="ab0z9-_X.", min_size=0, max_size=6)
hosts = st.lists(labels, min_size=1, max_size=4).map(".".join)
ports = st.sampled_from(["", ":80", ":443", ":8080", ":0", ":00", ":08", ":65535", ":65536", ":"])
rests = st.sampled_from(["", "/", "/users/a", "?x", "#f", "/a b", "/%zz", "/é", "@h/x", " ", "\t"])
schemes = st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "http:/"])


@settings(max_examples=3000)
@given(schemes, hosts, ports, rests)
def test_same_authority_as_yarl(scheme: str, host: str, port: str, rest: str) -> None:
    url = scheme + host + port + rest
    assert authority_of(url) == through_yarl(url)


def test_plain_urls_take_the_shortcut() -> None:
    assert _plain_authority("https://mastodon.social/users/alice") == "mastodon.social"
    assert _plain_authority("http://127.0.0.1:8080/inbox") == "127.0.0.1:8080"
    assert authority_of("http://127.0.0.1:8080/inbox") == "127.0.0.1:8080"


def test_what_yarl_normalises_is_left_to_it() -> None:
    for url in ("https://Example.org/x", "https://example.org:443/x", "http://a.:8/x",
                "https://bücher.example/x", "https://example.org:0443/x"):  # fmt: skip
        assert _plain_authority(url) is None
        assert authority_of(url) == through_yarl(url)
    assert authority_of("https://example.org:443/x") == "example.org"
    assert authority_of("https://Example.org:0443/x") == "example.org"


def test_a_host_that_cannot_be_decoded_has_no_authority() -> None:
    for url in ("https://xn--zz.com/x", "https://xn--a-ecp.com/", "https://xn--/"):
        assert authority_of(url) == ""
        assert not same_origin(url, url)
