"""Rewrite actions: new dicts, every Public spelling, every audience shape."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from policy_samples import BOB, PUBLIC, create, note

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
