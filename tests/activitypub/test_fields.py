from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from activitypub import fields
from activitypub.vocab import PUBLIC

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["id", "href", "type", "content", "contentMap", "url", "@id", "x"]),
        children,
        max_size=4,
    ),
    max_leaves=12,
)


@given(json_values)
def test_never_raise(value: Any) -> None:
    fields.as_list(value)
    fields.id_of(value)
    fields.ids_of(value)
    fields.first_str(value)
    fields.is_public(value)
    fields.obj_type(value)
    fields.content_of(value)
    fields.url_of(value)
    fields.parse_datetime(value)
    fields.language_of(value)


def test_as_list() -> None:
    assert fields.as_list(None) == []
    assert fields.as_list("a") == ["a"]
    assert fields.as_list(["a"]) == ["a"]
    assert fields.as_list({"id": "a"}) == [{"id": "a"}]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a/1", "https://a/1"),
        ({"id": "https://a/1", "type": "Note"}, "https://a/1"),
        ({"href": "https://a/1", "type": "Link"}, "https://a/1"),
        (["https://a/1", "https://a/2"], "https://a/1"),
        ([{"type": "Note"}, {"id": "https://a/2"}], "https://a/2"),
        ("", None),
        (None, None),
        (42, None),
        ({"id": 42}, None),
    ],
)
def test_id_of(value: Any, expected: str | None) -> None:
    assert fields.id_of(value) == expected


def test_ids_of() -> None:
    assert fields.ids_of(["a", {"id": "b"}, {"href": "c"}, "a", 3, None]) == ["a", "b", "c"]
    assert fields.ids_of("a") == ["a"]
    assert fields.ids_of(None) == []


@pytest.mark.parametrize("public", [PUBLIC, "Public", "as:Public", {"id": PUBLIC}, [PUBLIC]])
def test_is_public(public: Any) -> None:
    assert fields.is_public(["https://a/followers"], public)
    assert fields.is_public(public)


def test_not_public() -> None:
    assert not fields.is_public("https://a/followers", None, [])


def test_obj_type() -> None:
    assert fields.obj_type({"type": "Note"}) == "Note"
    assert fields.obj_type({"type": ["Note", "Other"]}) == "Note"
    assert fields.obj_type({"@type": "Note"}) == "Note"
    assert fields.obj_type("https://a/1") is None
    assert fields.has_type({"type": ["Emoji", "Hashtag"]}, {"Hashtag"})


def test_content_of() -> None:
    assert fields.content_of({"content": "<p>x</p>"}) == "<p>x</p>"
    assert fields.content_of({"contentMap": {"fa": "<p>سلام</p>"}}) == "<p>سلام</p>"
    assert fields.content_of({"content": "", "contentMap": {"ja": "日本"}}) == "日本"
    assert fields.content_of({}) == ""
    assert fields.content_of("nope") == ""
    assert fields.language_of({"contentMap": {"fa": "x"}}) == "fa"


def test_url_of() -> None:
    assert fields.url_of({"url": "https://a/@x/1"}) == "https://a/@x/1"
    assert fields.url_of({"url": {"type": "Link", "href": "https://a/1"}}) == "https://a/1"
    # PeerTube/Misskey style lists: prefer the text/html link.
    assert (
        fields.url_of(
            {
                "url": [
                    {"type": "Link", "mediaType": "video/mp4", "href": "https://a/v.mp4"},
                    {"type": "Link", "mediaType": "text/html", "href": "https://a/w/1"},
                ]
            }
        )
        == "https://a/w/1"
    )
    assert fields.url_of({"url": ["https://a/1", "https://a/2"]}) == "https://a/1"
    assert fields.url_of({}) is None


@pytest.mark.parametrize(
    "value",
    ["2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123Z", "2024-01-02T04:04:05+01:00",
     "2024-01-02T03:04:05"],
)
def test_parse_datetime(value: str) -> None:
    parsed = fields.parse_datetime(value)
    assert parsed is not None
    assert parsed.replace(microsecond=0) == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, "", "yesterday", 12, "2024-13-45T00:00:00Z"])
def test_parse_datetime_bad(value: Any) -> None:
    assert fields.parse_datetime(value) is None


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/activity+json", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        ("application/activity+json, application/ld+json", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("application/activity+json;q=0.5, text/html", False),
        ("text/html;q=0.1, application/activity+json", True),
        ("application/activity+json;q=0", False),
        ("application/json", False),
        ("", False),
        (None, False),
    ],
)
def test_accepts_activity_json(accept: str | None, expected: bool) -> None:
    from activitypub.vocab import accepts_activity_json

    assert accepts_activity_json(accept) is expected


def test_default_context() -> None:
    from activitypub.vocab import DEFAULT_CONTEXT, MASTODON_EXTENSIONS

    assert DEFAULT_CONTEXT[0] == "https://www.w3.org/ns/activitystreams"
    assert DEFAULT_CONTEXT[1] == "https://w3id.org/security/v1"
    for term in ["manuallyApprovesFollowers", "sensitive", "Hashtag", "toot", "featured",
                 "discoverable", "PropertyValue", "value", "Emoji", "focus", "blurhash",
                 "votersCount", "indexable", "alsoKnownAs", "movedTo"]:  # fmt: skip
        assert term in MASTODON_EXTENSIONS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"type": "Note"}, "Note"),
        ({"type": "", "@type": "Article"}, "Article"),
        ({"type": ["", "Question"]}, "Question"),
        ({"type": 5, "@type": ["Page"]}, "Page"),
        ({"@type": ""}, None),
        ({}, None),
    ],
)
def test_obj_type_shortcut_and_fallbacks(value: Any, expected: str | None) -> None:
    assert fields.obj_type(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a", "a"), ("", None), (["", "b"], "b"), ([1, "c"], "c"), (("d",), "d"), (None, None)],
)
def test_first_str(value: Any, expected: str | None) -> None:
    assert fields.first_str(value) == expected
