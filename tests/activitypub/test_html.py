from __future__ import annotations

import pytest

from activitypub.html import html_to_text, sanitize_html

MENTION = (
    '<span class="h-card" translate="no"><a href="https://b.example/@bob" '
    'class="u-url mention">@<span>bob</span></a></span>'
)
HASHTAG = (
    '<a href="https://b.example/tags/fedi" class="mention hashtag" rel="tag">'
    "#<span>fedi</span></a>"
)


def test_keeps_mastodon_markup() -> None:
    out = sanitize_html(f"<p>Hi {MENTION} {HASHTAG}</p>")
    assert 'class="h-card"' in out
    assert 'class="u-url mention"' in out
    assert 'class="mention hashtag"' in out
    assert 'href="https://b.example/@bob"' in out
    assert 'rel="nofollow noopener noreferrer"' in out
    assert 'target="_blank"' in out
    assert "translate" not in out


@pytest.mark.parametrize(
    ("dirty", "forbidden"),
    [
        ("<p>a<script>alert(1)</script>b</p>", "alert"),
        ("<style>body{display:none}</style><p>x</p>", "display"),
        ('<p onclick="steal()">x</p>', "onclick"),
        ('<a href="javascript:alert(1)">x</a>', "javascript"),
        ('<a href="data:text/html,hi">x</a>', "data:"),
        ('<img src="https://x/y.png" onerror="z()">', "img"),
        ('<iframe src="https://evil"></iframe>', "iframe"),
        ('<p class="evil status">x</p>', "evil"),
        ('<a href="https://a" class="mention evil">x</a>', "evil"),
        ('<p style="color:red">x</p>', "style"),
        ("<!-- secret --><p>x</p>", "secret"),
        ('<a href="/relative">x</a>', "relative"),
    ],
)
def test_removes(dirty: str, forbidden: str) -> None:
    assert forbidden not in sanitize_html(dirty)


def test_keeps_formatting() -> None:
    html = (
        "<p><strong>b</strong> <em>i</em> <del>d</del> <code>c</code></p>"
        "<pre>x</pre><blockquote>q</blockquote><ul><li>1</li></ul><ol><li>2</li></ol>"
        "<h1>t</h1><br>"
    )
    out = sanitize_html(html)
    for tag in ["strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "h1", "br"]:
        assert f"<{tag}>" in out


@pytest.mark.parametrize(
    "text", ["سلام دنیا #سلام", "שלום עולם", "مرحبا بالعالم", "日本語のテキスト #日本", "한국어"]
)
def test_scripts_preserved(text: str) -> None:
    assert text in sanitize_html(f"<p>{text}</p>")
    assert html_to_text(f"<p>{text}</p>") == text


def test_schemes() -> None:
    assert 'href="https://a.example/x"' in sanitize_html('<a href="https://a.example/x">x</a>')
    assert 'href="http://a.example/x"' in sanitize_html('<a href="http://a.example/x">x</a>')
    assert "gemini://" in sanitize_html('<a href="gemini://a.example/">x</a>')


def test_empty() -> None:
    assert sanitize_html("") == ""
    assert html_to_text("") == ""


def test_html_to_text() -> None:
    html = f"<p>Hello {MENTION}</p><p>line<br>two &amp; &lt;three&gt;</p><script>x()</script>"
    assert html_to_text(html) == "Hello @bob\n\nline\ntwo & <three>"
    assert html_to_text("plain text") == "plain text"
    assert html_to_text("<p>unclosed <b") == "unclosed"
