"""Parameter parsing as apps send it, scope semantics, and Link headers."""

from __future__ import annotations

import pytest

from fedinode.api.auth import parse_scopes, scope_covers, scopes_subset
from fedinode.api.params import Params, nest
from fedinode.errors import ValidationFailed


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
    p = Params({"max_id": "123", "min_id": "", "since_id": 7, "top": str(2**63 - 1)})
    assert p.id("max_id") == 123
    assert p.id("min_id") is None
    assert p.id("absent") is None
    assert p.id("since_id") == 7
    assert p.id("top") == 2**63 - 1


@pytest.mark.parametrize(
    "value", ["abc", "-1", -1, str(2**63), 2**63, "1" * 400, "\u00b2", "\u0663", "1.5", 1.5,
              True, [], {}, "0x10", " 1"],
)  # fmt: skip
def test_anything_but_an_id_is_a_validation_error(value: object) -> None:
    with pytest.raises(ValidationFailed):
        Params({"max_id": value}).id("max_id")
    with pytest.raises(ValidationFailed):
        Params({"id": ["1", value]}).id_list("id")


def test_id_lists_skip_empty_items() -> None:
    assert Params({"id": ["1", "", None, 2]}).id_list("id") == [1, 2]


@pytest.mark.parametrize("value", [str(2**31), -(2**31), 1e300, "1e3", "\u00b2", [1], {"a": 1}])
def test_numbers_out_of_range_are_a_validation_error(value: object) -> None:
    with pytest.raises(ValidationFailed):
        Params({"limit": value}).int("limit")


def test_numbers_in_range() -> None:
    assert Params({"a": str(2**31 - 1), "b": "-5", "c": 7, "d": ""}).int("a") == 2**31 - 1
    assert Params({"b": "-5"}).int("b") == -5
    assert Params({"d": ""}).int("d", 3) == 3


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
