"""Rewrite actions: new dicts, every Public spelling, every audience shape."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from policy_samples import BOB, PUBLIC, create, ctx, note, pipeline

from policy.activity import REWRITE_ACTIONS, rewrite

FOLLOWERS = BOB + "/followers"


@pytest.mark.parametrize("public", [PUBLIC, "as:Public", "Public"])
@pytest.mark.parametrize("shape", ["string", "list"])
def test_unlist_moves_public_to_cc(public: str, shape: str) -> None:
    to: Any = public if shape == "string" else [public, FOLLOWERS]
    activity = create(note(to=to, cc=FOLLOWERS), to=to, cc=[])
    before = copy.deepcopy(activity)
    new = rewrite(activity, "unlist")
    assert new is not None and activity == before
    for holder in (new, new["object"]):
        assert not any(x in ("Public", "as:Public", PUBLIC) for x in holder["to"])
        assert holder["cc"][0] == PUBLIC
    assert FOLLOWERS in new["object"]["cc"]


def test_unlist_unlisted_post_changes_nothing() -> None:
    activity = create(note(to=[FOLLOWERS], cc=[PUBLIC]), to=[FOLLOWERS], cc=[PUBLIC])
    assert rewrite(activity, "unlist") is None


def test_followers_only_removes_public_everywhere() -> None:
    activity = create(note(to=["as:Public"], cc=[PUBLIC, FOLLOWERS]), cc=PUBLIC)
    new = rewrite(activity, "followers_only")
    assert new is not None
    assert new["to"] == [] and new["cc"] == []
    assert new["object"]["to"] == [] and new["object"]["cc"] == [FOLLOWERS]


def test_sensitive_and_strip_media() -> None:
    activity = create(note(attachment={"type": "Image", "mediaType": "image/png"}))
    sensitive = rewrite(activity, "sensitive")
    assert sensitive is not None and sensitive["object"]["sensitive"] is True
    assert rewrite(sensitive, "sensitive") is None
    stripped = rewrite(activity, "strip_media")
    assert stripped is not None and "attachment" not in stripped["object"]
    assert "attachment" in activity["object"] and "sensitive" not in activity["object"]


def test_object_as_id_string() -> None:
    boost = {"type": "Announce", "actor": BOB, "to": [PUBLIC], "object": "https://x.example/1"}
    assert rewrite(boost, "sensitive") is None
    unlisted = rewrite(boost, "unlist")
    assert unlisted is not None and unlisted["object"] == "https://x.example/1"
    assert unlisted["cc"] == [PUBLIC]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.just(PUBLIC),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["to", "cc", "object", "attachment", "sensitive", "icon", "type", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@given(
    st.dictionaries(
        st.sampled_from(["type", "to", "cc", "object", "actor", "icon"]), json_values, max_size=6
    ),
    st.sampled_from(sorted(REWRITE_ACTIONS)),
)
def test_rewrite_never_mutates(activity: dict[str, Any], action: str) -> None:
    before = copy.deepcopy(activity)
    new = rewrite(activity, action)
    assert activity == before
    assert new is None or new is not activity


ROBUST = pipeline(
    blocks=[
        {
            "domain": "remote.example",
            "severity": "silence",
            "reject_media": True,
            "followers_only": True,
            "avatar_removal": True,
            "banner_removal": True,
            "reject_reports": True,
        }
    ],
    rules=[
        {"kind": "keyword", "pattern": "zz", "action": "sensitive"},
        {"kind": "keyword", "pattern": "/q+/", "action": "unlist"},
        {"kind": "hashtag", "tags": ["zz*"], "action": "strip_media"},
        {"kind": "object_age", "max_age": "1d", "action": "unlist"},
        {"kind": "mentions", "max": 1, "action": "followers_only"},
        {"kind": "new_account_links", "min_age_hours": 1, "action": "sensitive"},
        {"kind": "media", "max_count": 1, "allowed_types": ["image/*"], "action": "strip_media"},
        {"kind": "vocabulary", "reject": ["Zz"], "action": "unlist"},
        {
            "kind": "sparql",
            "query": "ASK { ?activity as:object ?o . ?o as:x ?y }",
            "action": "unlist",
        },
    ],
)

activity_like = st.dictionaries(
    st.sampled_from(
        [
            "type",
            "to",
            "cc",
            "object",
            "actor",
            "icon",
            "tag",
            "content",
            "contentMap",
            "attachment",
            "published",
            "summary",
            "name",
            "id",
            "x",
            "sensitive",
            "href",
        ]
    ),
    st.one_of(
        json_values,
        st.sampled_from(["Create", "Update", "Announce", "Person", "Hashtag", "Mention", "Note"]),
        st.just([{"type": "Hashtag", "name": "#zzz"}, {"type": "Mention", "href": "https://a/u"}]),
        st.just({"type": "Note", "content": '<a href="https://x">zz</a>', "to": PUBLIC}),
    ),
    max_size=8,
)


@given(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["Create", "Update", "Announce", "Delete", "Flag", "Person"])}
    ),
    activity_like,
)
def test_pipeline_is_total_and_pure(base: dict[str, Any], extra: dict[str, Any]) -> None:
    activity = {**extra, **base}
    if isinstance(extra.get("object"), dict):
        activity["object"] = {
            **extra["object"],
            **{k: v for k, v in extra.items() if k != "object"},
        }
    before = copy.deepcopy(activity)
    outcome = ROBUST.run(activity, ctx(first_seen_hours_ago=0.1))
    assert activity == before
    assert outcome.accepted == (outcome.activity is not None)
    ROBUST.explain(activity, ctx())
    assert activity == before
