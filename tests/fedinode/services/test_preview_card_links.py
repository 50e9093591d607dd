"""first_link: the plain-element parse picks the link lxml.html's fragment parse picked."""

from __future__ import annotations

from collections.abc import Callable

import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from fedinode.services.preview_cards import _SKIPPED_CLASSES, MAX_URL_LENGTH, first_link


def through_fragment(content: str, *, local_host: str, skip_urls: frozenset[str]) -> str | None:
    """first_link as it was: lxml.html.fragment_fromstring and HtmlElement.text_content."""
    if "<a" not in content:
        return None
    try:
        root = lxml.html.fragment_fromstring(content, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return None
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        classes = (a.get("class") or "").split()
        rel = (a.get("rel") or "").split()
        text = a.text_content().strip()
        if not href or "tag" in rel or any(c in _SKIPPED_CLASSES for c in classes):
            continue
        if text.startswith(("#", "@")) or href in skip_urls or len(href) > MAX_URL_LENGTH:
            continue
        try:
            url = URL(href)
        except ValueError:
            continue
        if url.scheme not in ("http", "https") or not url.host:
            continue
        if (url.host_port_subcomponent or "").lower() == local_host:
            continue
        return str(url.with_fragment(None))
    return None


def outcome(function: Callable[..., str | None], content: str) -> object:
    try:
        return function(content, local_host="local.test", skip_urls=frozenset())
    except Exception as exc:  # the same failure is the same outcome
        return type(exc)


CONTENTS = [
    '<p>see <a href="https://example.org/a#x" rel="nofollow">this</a></p>',
    'leading text <a href="https://example.org/b">b</a> trailing',
    '<a href="https://local.test/x">ours</a><a href="https://example.org/c">c</a>',
    '<a class="mention u-url" href="https://example.org/@u">@<span>u</span></a>'
    '<a href="https://example.org/d">d</a>',
    '<a href="https://example.org/t" rel="tag">#t</a><a href="https://e.org/e"><!--c-->#no</a>',
    '<a href="https://e.org/f"><b>#</b>x</a>',
    '<a href="https://e.org/g?a=1&amp;b=2">g</a>',
    "<html><body><a href='https://e.org/h'>h</a></body></html>",
    "  <!DOCTYPE html><p><a href='https://e.org/i'>i</a>",
    "<head><title>t</title></head><a href='https://e.org/j'>j</a>",
    "<body><a href='https://e.org/k'>k</a></body><body><a href='https://e.org/l'>l</a></body>",
    "<a href='https://e.org/m'><a href='https://e.org/n'>nested</a></a>",
    "<table><a href='https://e.org/o'>o</a></table>",
    "<a href='javascript:alert(1)'>x</a><a href=' https://e.org/p '>p</a>",
    "<a href='https://e.org/q'>\x00</a>",
    "<a>",
    "<a href=''>",
    "<a href='http://[::1'>bad</a>",
]


@pytest.mark.parametrize("content", CONTENTS)
def test_same_link_as_the_fragment_parse(content: str) -> None:
    assert outcome(first_link, content) == outcome(through_fragment, content)


pieces = st.sampled_from(
    ["<a href='https://e.org/1'>", "<a href=\"https://local.test/2\">", "</a>", "<p>", "</p>",
     "<a class='hashtag' href='https://e.org/3'>", "#", "@", "text", " ", "<!-- c -->",
     "<html>", "<body>", "</body>", "<head>", "<br>", "<span>", "</span>", "&amp;", "<a>",
     "<a rel='tag' href='https://e.org/4'>", "<!DOCTYPE html>", "<table>", "<td>"]
)  # fmt: skip


@settings(max_examples=500)
@given(st.lists(pieces, max_size=12).map("".join))
def test_same_link_for_any_markup(content: str) -> None:
    assert outcome(first_link, content) == outcome(through_fragment, content)
