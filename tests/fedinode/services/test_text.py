"""Local plain text → status HTML: which URLs become links, as Mastodon decides (a URL needs its
scheme: mastodon/mastodon#8148), in Persian and English text alike."""

from __future__ import annotations

import re

import pytest

from fedinode.services.text import parse, plain_to_html, to_html


def links(text: str) -> list[str]:
    return [e.value for e in parse(text) if e.kind == "url"]


def hrefs(text: str) -> list[str]:
    html = to_html(text, parse(text), {}, tag_url=lambda t: f"https://local.test/tags/{t}")
    return re.findall(r'<a href="([^"]*)"', html)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://example.com/a?b=1 now", ["https://example.com/a?b=1"]),
        ("see http://example.com", ["http://example.com"]),
        ("HTTPS://EXAMPLE.COM/X", ["HTTPS://EXAMPLE.COM/X"]),
        # Hosts without a TLD from any list: loopback and development instances link too.
        ("http://localhost:8080/@alice", ["http://localhost:8080/@alice"]),
        ("https://mastodon.social/@Gargron", ["https://mastodon.social/@Gargron"]),
        ("http://127.0.0.1:8080/x", ["http://127.0.0.1:8080/x"]),
        # The other schemes Mastodon links and sanitises through.
        ("gemini://gemini.circumlunar.space/", ["gemini://gemini.circumlunar.space/"]),
        ("ipfs://bafybeigdyrzt5/x", ["ipfs://bafybeigdyrzt5/x"]),
        # A '#' inside a URL is its fragment, not a hashtag.
        ("https://example.com/page#section", ["https://example.com/page#section"]),
    ],
)
def test_urls_with_a_scheme_are_links(text: str, expected: list[str]) -> None:
    assert links(text) == expected
    assert hrefs(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "example.com",
        "www.example.com/path",
        "mail me at alice@example.com",
        "ftp://example.com/file",
        "https://",
        "https://.",
        "https:// example.com",
        "xhttps://example.com",  # a scheme glued to a word is not one
        "@https://example.com",
    ],
)
def test_text_without_a_scheme_stays_text(text: str) -> None:
    assert links(text) == []
    assert hrefs(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Look: https://example.com.", "https://example.com"),
        ("https://example.com/a, and more", "https://example.com/a"),
        ("really? https://example.com/a?!", "https://example.com/a"),
        ('"https://example.com/q"', "https://example.com/q"),
        ("(see https://example.com/x)", "https://example.com/x"),
        ("https://en.wikipedia.org/wiki/Fediverse_(disambiguation)",
         "https://en.wikipedia.org/wiki/Fediverse_(disambiguation)"),
        ("(https://en.wikipedia.org/wiki/Go_(game)).", "https://en.wikipedia.org/wiki/Go_(game)"),
        ("[https://example.com/list]", "https://example.com/list"),
        ("https://example.com/search?q=a&b=", "https://example.com/search?q=a&b="),
        ("«https://example.com/fa»", "https://example.com/fa"),
        ("https://example.com/…", "https://example.com/"),
        ("https://example.com/a;", "https://example.com/a"),
    ],
)  # fmt: skip
def test_trailing_punctuation_is_not_part_of_the_link(text: str, expected: str) -> None:
    assert links(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Persian words and punctuation around a URL: the Persian comma, semicolon, question
        # mark and full stop end a sentence, not the link.
        ("این مقاله را ببینید https://example.com/article، خیلی خوب است",
         ["https://example.com/article"]),
        ("آیا https://example.com/fa؟", ["https://example.com/fa"]),
        ("پیوند: https://example.com/a؛ و https://example.org/b۔",
         ["https://example.com/a", "https://example.org/b"]),
        # A Persian path is part of the URL.
        ("سلام https://fa.wikipedia.org/wiki/ایران دوستان", ["https://fa.wikipedia.org/wiki/ایران"]),
        # Right after a Persian word with no space: Mastodon links it (only ASCII letters and
        # digits glue a scheme to the word before it).
        ("سلامhttps://example.com/x", ["https://example.com/x"]),
        # Direction marks that Persian keyboards put around Latin text end the URL.
        ("\u200fhttps://example.com/a\u200f متن", ["https://example.com/a"]),
        ("https://example.com/a\u200c", ["https://example.com/a"]),
    ],
)  # fmt: skip
def test_persian_text_next_to_urls(text: str, expected: list[str]) -> None:
    assert links(text) == expected


def test_persian_status_with_mentions_hashtags_and_urls() -> None:
    text = "سلام @bob@example.com! ببینید https://example.com/x، #فدیورس و #Fediverse."
    kinds = [(e.kind, e.value) for e in parse(text)]
    assert kinds == [
        ("mention", "bob@example.com"),
        ("url", "https://example.com/x"),
        ("hashtag", "فدیورس"),
        ("hashtag", "Fediverse"),
    ]


@pytest.mark.parametrize(
    "url",
    [
        "https://مثال.ایران/صفحه",
        "https://bücher.example/regal",
        "https://xn--bcher-kva.example/regal",
        "https://例え.テスト/",
    ],
)
def test_idn_hosts_link_as_written(url: str) -> None:
    text = f"IDN {url} ok"
    assert links(text) == [url]
    html = plain_to_html(text)
    assert f'href="{url}"' in html


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "javascript://example.com/%0Aalert(1)",
        "click javascript:alert(document.cookie) now",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
    ],
)
def test_script_urls_are_never_links(text: str) -> None:
    html = plain_to_html(text)
    assert "<a " not in html
    assert "<script" not in html


def test_a_script_scheme_in_front_of_a_url_is_left_as_text() -> None:
    html = plain_to_html("javascript:https://example.com/")
    assert hrefs("javascript:https://example.com/") == ["https://example.com/"]
    assert 'href="javascript' not in html


def test_link_markup_is_mastodons() -> None:
    html = plain_to_html("https://www.example.com/a/very/long/path/that/goes/on/and/on")
    assert html == (
        '<p><a href="https://www.example.com/a/very/long/path/that/goes/on/and/on" '
        'target="_blank" rel="nofollow noopener noreferrer" translate="no">'
        '<span class="invisible">https://www.</span>'
        '<span class="ellipsis">example.com/a/very/long/path/t</span>'
        '<span class="invisible">hat/goes/on/and/on</span></a></p>'
    )
    # Only http(s) and www. are hidden; other schemes show in full.
    assert '<span class="invisible"></span><span>gemini://x.example/</span>' in plain_to_html(
        "gemini://x.example/"
    )
