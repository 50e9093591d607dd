"""rows.build: the compiled builders give what converting the plan field by field gave."""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Any

import pytest

from storage.rows import _converters, _plan, build, build_all, build_opt


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass(frozen=True, slots=True)
class Sample:
    id: int
    flag: bool
    colour: Colour
    tags: list[str]
    extra: dict[str, Any] | None
    anything: Any
    note: str | None
    left_out: str = "default"  # not read from the row


def by_plan(cls: type, row: dict[str, Any], prefix: str = "") -> Any:
    """The loop build ran before it was compiled."""
    plan = _converters.get(cls) or _plan(cls)
    kwargs = {}
    for name, conv in plan:
        value = row[prefix + name]
        kwargs[name] = conv(value) if conv is not None and value is not None else value
    return cls(**kwargs)


ROWS = [
    {"id": 1, "flag": 1, "colour": "red", "tags": '["a", "b"]', "extra": '{"k": 1}',
     "anything": "x", "note": "n", "left_out": "ignored"},
    {"id": 2, "flag": 0, "colour": "blue", "tags": b"[]", "extra": None, "anything": None,
     "note": None},
    {"id": 3, "flag": None, "colour": None, "tags": None, "extra": {"already": "parsed"},
     "anything": 5, "note": ""},
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS)
def test_build_matches_the_plan(row: dict[str, Any]) -> None:
    built = build(Sample, row)
    assert built == by_plan(Sample, row)
    assert type(built.flag) is type(by_plan(Sample, row).flag)
    assert built.left_out == "default"


@pytest.mark.parametrize("row", ROWS)
def test_build_with_a_prefix(row: dict[str, Any]) -> None:
    prefixed = {f"s_{k}": v for k, v in row.items()} | {"id": "not this one"}
    assert build(Sample, prefixed, "s_") == by_plan(Sample, row)
    assert build_all(Sample, [row, row]) == [by_plan(Sample, row)] * 2
    assert build_opt(Sample, None) is None


def test_a_missing_column_still_raises() -> None:
    row = dict(ROWS[0])
    del row["note"]
    with pytest.raises(KeyError):
        build(Sample, row)
    with pytest.raises(KeyError):
        build(Sample, ROWS[0], "u_")
