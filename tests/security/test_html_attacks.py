"""Hostile HTML and URLs: what a remote server or a local user writes must never run in a
reader's browser, whichever client renders it (our pages, Mastodon's web UI, apps)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from activitypub.convert import actor_from_as, emojis_from_as, note_from_as
from activitypub.html import sanitize_html
from fedinode.services.text import parse, to_html
from security.rig import Instance

ACTOR = "https://evil.example/users/m"
HOSTILE_URLS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
]


def _note(**extra: Any) -> dict[str, Any]:
    doc = {"id": "https://evil.example/notes/1", "type": "Note", "attributedTo": ACTOR,
           "content": "<p>hi</p>", "to": ["https://www.w3.org/ns/activitystreams#Public"]}  # fmt: skip
    doc.update(extra)
    return doc


@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
        '<img src=x onerror="alert(1)">',
        '<svg onload="alert(1)"><script>alert(1)</script></svg>',
        '<p style="background:url(javascript:alert(1))" onclick="alert(1)">x</p>',
        '<a href="/relative">x</a>',
        "<iframe src=https://evil.example></iframe>",
        '<math><mtext><table><mglyph><style><img src=x onerror="alert(1)">',
        '<a href="https://evil.example/" class="mention hashtag u-url evil">x</a>',
    ],
)
def test_remote_content_is_sanitised(html: str) -> None:
    out = note_from_as(_note(content=html)).content
    lowered = out.lower()
    for needle in ("<script", "javascript:", "data:", "onerror", "onload", "onclick", "style=",
                   "<svg", "<img", "<iframe", 'href="/relative"', "<style", "evil\""):  # fmt: skip
        assert needle not in lowered, (needle, out)


@pytest.mark.parametrize("url", HOSTILE_URLS)
@pytest.mark.parametrize("type_", ["Article", "Page", "Video", "Image", "Audio", "Event"])
def test_article_link_never_carries_a_hostile_scheme(url: str, type_: str) -> None:
    parsed = note_from_as(_note(type=type_, name="Title", url=url))
    assert "script:" not in parsed.content.lower() and "data:" not in parsed.content.lower()
    assert parsed.url.startswith("https://")
    html_link = {"type": "Link", "mediaType": "text/html", "href": url}
    parsed = note_from_as(_note(type=type_, name="Title", url=[html_link]))
    assert "script:" not in parsed.content.lower() and "data:" not in parsed.content.lower()
    assert parsed.url.startswith("https://")


@pytest.mark.parametrize("url", HOSTILE_URLS)
@pytest.mark.parametrize(("type_", "media_type"),
                         [("Video", "video/mp4"), ("Image", "image/png"), ("Audio", "audio/mpeg")])  # fmt: skip
def test_media_in_url_is_http_only(url: str, type_: str, media_type: str) -> None:
    links = [{"type": "Link", "mediaType": media_type, "href": url},
             {"type": "Link", "mimeType": media_type, "href": url}]  # fmt: skip
    assert note_from_as(_note(type=type_, url=links)).media == []
    assert note_from_as(_note(type=type_, url=url, mediaType=media_type)).media == []


def test_event_place_and_title_are_text() -> None:
    parsed = note_from_as(_note(
        type="Event", name="<img src=x onerror=alert(1)>Party", startTime="2026-01-01T10:00:00Z",
        location={"type": "Place", "name": '<script>alert(1)</script>"Hall"',
                  "address": {"addressLocality": "<b onclick=alert(1)>Town</b>"}},
    ))  # fmt: skip
    lowered = parsed.content.lower()
    for needle in ("<script", "<img", "onerror", "onclick", "<b "):
        assert needle not in lowered, (needle, parsed.content)


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_note_url_never_carries_a_hostile_scheme(url: str) -> None:
    assert note_from_as(_note(url=url)).url == "https://evil.example/notes/1"


@pytest.mark.parametrize(
    "name",
    [
        ':x" onerror="alert(1):',
        ":<img src=x onerror=alert(1)>:",
        ":a b:",
        ":блин:",  # Mastodon shortcodes are [A-Za-z0-9_]
    ],
)
def test_emoji_shortcodes_are_plain_words(name: str) -> None:
    tags = [{"type": "Emoji", "name": name, "icon": {"url": "https://evil.example/e.png"}}]
    assert emojis_from_as(tags) == []


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_emoji_images_are_http_urls(url: str) -> None:
    tags = [{"type": "Emoji", "name": ":ok:", "icon": {"url": url}}]
    assert emojis_from_as(tags) == []


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_actor_urls_never_carry_a_hostile_scheme(url: str) -> None:
    account = actor_from_as({"id": ACTOR, "type": "Person", "inbox": f"{ACTOR}/inbox",
                             "preferredUsername": "m", "url": url,
                             "icon": {"type": "Image", "url": url},
                             "image": {"type": "Image", "url": url}})  # fmt: skip
    assert account.url == ACTOR
    assert account.avatar_url == "" and account.header_url == ""


def test_actor_names_and_fields_are_text_or_sanitised() -> None:
    account = actor_from_as({
        "id": ACTOR, "type": "Person", "inbox": f"{ACTOR}/inbox", "preferredUsername": "m",
        "name": "<img src=x onerror=alert(1)>Mal",
        "summary": '<p onclick="alert(1)">bio<script>alert(1)</script></p>',
        "attachment": [{"type": "PropertyValue", "name": "<b>k</b>",
                        "value": '<a href="javascript:alert(1)">v</a>'}],
    })  # fmt: skip
    assert "<" not in account.display_name
    assert "script" not in account.note and "onclick" not in account.note
    assert "javascript" not in account.fields[0]["value"]


def test_sanitiser_strips_unicode_scheme_tricks() -> None:
    out = sanitize_html(
        '<a href="\u200bjavascript:alert(1)">x</a><a href="jav\u0000ascript:1">y</a>'
    )
    assert "javascript" not in out.lower()


def test_local_plain_text_is_escaped() -> None:
    text = '<script>alert(1)</script> <img src=x onerror=alert(1)> "quoted" https://x.example/"><b>'
    html = to_html(text, parse(text), {}, tag_url=lambda tag: f"https://x.example/tags/{tag}")
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html


async def test_profile_page_escapes_display_name_and_fields(home: Instance, tmp_path: Path) -> None:
    alice = await home.store.accounts.by_handle("alice", "")
    assert alice is not None
    await home.store.accounts.update(
        alice.id,
        display_name='</title><script>alert(1)</script>"',
        note='<p onclick="alert(1)">bio</p><script>alert(2)</script>',
        fields=[
            {"name": "<script>alert(3)</script>", "value": '<a href="javascript:alert(4)">x</a>'}
        ],
    )
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://{home.domain}/@alice") as response:
            assert response.status == 200
            page = await response.text()
    assert "<script" not in page.lower()
    assert "javascript:" not in page.lower()
    assert "onclick" not in page.lower()
