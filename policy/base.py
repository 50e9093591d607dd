"""The policy contract: context, verdicts and the Policy protocol."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

Direction = Literal["inbound", "outbound", "fetch"]
DIRECTIONS: tuple[Direction, ...] = ("inbound", "outbound", "fetch")


@dataclass(frozen=True, slots=True)
class PolicyContext:
    """Who sent (or will receive) an activity, and when."""

    direction: Direction
    peer: str  # host, lowercased, may carry :port; "" when there is no remote peer
    actor: str | None
    local: bool
    now: datetime  # tz-aware UTC
    actor_first_seen: datetime | None = None


@dataclass(frozen=True, slots=True)
class Accept:
    """The activity passes unchanged."""


@dataclass(frozen=True, slots=True)
class Reject:
    """The activity is refused."""

    reason: str


@dataclass(frozen=True, slots=True)
class Rewrite:
    """The activity passes as the new dict `activity`; `action` names the change."""

    activity: dict[str, Any]
    action: str


Verdict = Accept | Reject | Rewrite

ACCEPT = Accept()


class Policy(Protocol):
    """One rule: Akkoma's MRF `filter/1` plus `describe/0`."""

    @property
    def name(self) -> str: ...

    @property
    def dry_run(self) -> bool: ...

    def filter(self, activity: Mapping[str, Any], ctx: PolicyContext) -> Verdict: ...

    def describe(self) -> dict[str, Any]: ...
