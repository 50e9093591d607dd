"""Keyword and hashtag rules catch every spelling of a Persian/Arabic/Urdu/Latin word."""

from __future__ import annotations

from typing import Any

import pytest
from policy_samples import create, ctx, note, pipeline, verdict_of

KASHIDA = "كـتـاب"


def hashtag(name: str) -> dict[str, str]:
    return {"type": "Hashtag", "href": "https://remote.example/tags/x", "name": name}


@pytest.mark.parametrize("pattern", ["كتاب", "کتاب", KASHIDA, "ﻛﺘﺎﺏ", "كِتَاب"])
@pytest.mark.parametrize(
    "content",
    [
        "<p>#كتاب جديد</p>",
        "<p>#کتاب تازه</p>",
        f"<p>#{KASHIDA}</p>",
        "<p>ﻛﺘﺎﺏ</p>",
    ],
)
def test_keyword_rule_matches_every_spelling(pattern: str, content: str) -> None:
    p = pipeline(rules=[{"kind": "keyword", "pattern": pattern, "action": "reject"}])
    assert verdict_of(p, create(note(content)), ctx()) == "reject"


@pytest.mark.parametrize(
    ("pattern", "content", "expected"),
    [
        ("café", "<p>Best CAFE in town</p>", "reject"),
        ("CAFE", "<p>un café noir</p>", "reject"),
        ("ایران ۱۴۰۳", "<p>ايران 1403</p>", "reject"),
        ("پاکستان", "<p>پاكستان زندہ باد</p>", "reject"),
        ("كتاب", "<p>کتب</p>", "accept"),
    ],
)
def test_keyword_rule_table(pattern: str, content: str, expected: str) -> None:
    p = pipeline(rules=[{"kind": "keyword", "pattern": pattern, "action": "reject"}])
    assert verdict_of(p, create(note(content)), ctx()) == expected


@pytest.mark.parametrize("tags", [["#كتاب"], ["#کتاب"], [f"#{KASHIDA}"]])
def test_hashtag_rule_matches_every_spelling(tags: list[str]) -> None:
    activity: dict[str, Any] = create(note("<p>x</p>", tag=[hashtag(t) for t in tags]))
    for listed in ("كتاب", "#کتاب", KASHIDA):
        p = pipeline(rules=[{"kind": "hashtag", "tags": [listed], "action": "reject"}])
        assert verdict_of(p, activity, ctx()) == "reject"


def test_hashtag_rule_prefix_folds_too() -> None:
    activity = create(note("<p>x</p>", tag=[hashtag("#كتابخانه")]))
    p = pipeline(rules=[{"kind": "hashtag", "tags": ["کتاب*"], "action": "reject"}])
    assert verdict_of(p, activity, ctx()) == "reject"
