"""Parameter parsing as apps send it, scope semantics, and Link headers."""

from __future__ import annotations

import pytest

from fedinode.api.auth import parse_scopes, scope_covers, scopes_subset
from fedinode.api.params import Params, nest


def test_rails_arrays_and_nesting() -> None:
    data = nest(
        [
            ("media_ids[]", "1"),
            ("media_ids[]", "2"),
            ("poll[options][]", "a"),
            ("poll[options][]", "b"),
            ("poll[expires_in]", "300"),
            ("fields_attributes[0][name]", "n0"),
            ("fields_attributes[0][value]", "v0"),
            ("fields_attributes[1][name]", "n1"),
            ("source[privacy]", "private"),
            ("status", "hi"),
        ]
    )
    p = Params(data)
    assert p.id_list("media_ids") == [1, 2]
    assert p.sub("poll").str_list("options") == ["a", "b"]
    assert p.sub("poll").int("expires_in") == 300
    assert p.list("fields_attributes") == [{"name": "n0", "value": "v0"}, {"name": "n1"}]
    assert p.sub("source").str("privacy") == "private"
    assert p.str("status") == "hi"


def test_list_of_hashes() -> None:
    data = nest([("a[][name]", "x"), ("a[][value]", "1"), ("a[][name]", "y")])
    assert data == {"a": [{"name": "x", "value": "1"}, {"name": "y"}]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("1", True),
        ("on", True),
        (True, True),
        ("false", False),
        ("0", False),
        ("", False),
    ],
)
def test_booleans(value: object, expected: bool) -> None:
    assert Params({"x": value}).bool("x") is expected


def test_ids_are_digit_strings() -> None:
    p = Params({"max_id": "123", "min_id": "abc", "since_id": 7})
    assert p.id("max_id") == 123
    assert p.id("min_id") is None
    assert p.id("since_id") == 7


@pytest.mark.parametrize(
    ("granted", "required", "ok"),
    [
        ("read", "read:statuses", True),
        ("read:statuses", "read:statuses", True),
        ("read:accounts", "read:statuses", False),
        ("read", "write:statuses", False),
        ("write", "write:media", True),
        ("follow", "write:follows", True),
        ("follow", "write:blocks", True),
        ("follow", "write:statuses", False),
        ("admin:read", "admin:read:accounts", True),
        ("admin:read", "admin:write:accounts", False),
        ("admin:write", "admin:write:reports", True),
        ("push", "read:notifications", False),
    ],
)
def test_scope_covers(granted: str, required: str, ok: bool) -> None:
    assert scope_covers(parse_scopes(granted), required) is ok


def test_scope_subset_and_parsing() -> None:
    assert parse_scopes("read+write  follow read") == ["read", "write", "follow"]
    assert scopes_subset(["read:statuses", "write"], ["read", "write"])
    assert not scopes_subset(["admin:read"], ["read", "write"])
