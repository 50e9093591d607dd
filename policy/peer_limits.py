"""[policy.peer_limits]: how much one remote host may send, with per-domain overrides.

Pure: the limits and their windows. Counting is storage's (``storage/peer_usage.py``);
enforcing it is the inbox's and the media cache's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from policy.domains import DomainMatcher
from policy.errors import PolicyConfigError

MINUTE_MS = 60_000
DAY_MS = 86_400_000
RULE = "peer_limit"
KEYS = ("requests_per_minute", "activities_per_day", "media_bytes_per_day")
# The usage kind each limit counts (storage.peer_usage) and its window.
KINDS = {
    "requests_per_minute": ("requests", MINUTE_MS),
    "activities_per_day": ("activities", DAY_MS),
    "media_bytes_per_day": ("media_bytes", DAY_MS),
}


@dataclass(frozen=True, slots=True)
class PeerLimit:
    """Limits for one host; 0 = no limit."""

    requests_per_minute: int = 0
    activities_per_day: int = 0
    media_bytes_per_day: int = 0


@dataclass(frozen=True, slots=True)
class PeerLimitOverride:
    domain: str  # may be "*.example.org"
    limit: PeerLimit


@dataclass(frozen=True, slots=True)
class PeerLimits:
    default: PeerLimit = field(default_factory=PeerLimit)
    overrides: tuple[PeerLimitOverride, ...] = ()

    @property
    def enabled(self) -> bool:
        return any(_any(o.limit) for o in self.overrides) or _any(self.default)

    def for_host(self, host: str) -> PeerLimit:
        """The limits of ``host``: the most specific override, else the defaults."""
        if not self.overrides:
            return self.default
        matcher = _matchers.get(self)
        if matcher is None:
            matcher = DomainMatcher((o.domain, o.limit) for o in self.overrides)
            if len(_matchers) > 16:
                _matchers.clear()
            _matchers[self] = matcher
        return matcher.lookup(host) or self.default


_matchers: dict[PeerLimits, DomainMatcher[PeerLimit]] = {}


def _any(limit: PeerLimit) -> bool:
    return any(getattr(limit, key) for key in KEYS)


def window(limit_key: str, now_ms: int) -> tuple[int, int]:
    """(first millisecond, first millisecond after) of the window ``now_ms`` falls in: the
    minute, or the UTC day."""
    size = KINDS[limit_key][1]
    start = now_ms - now_ms % size
    return start, start + size


def _count(table: Mapping[str, Any], name: str, key: str, default: int) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyConfigError(f"{key}.{name}", f"expected an integer, got {type(value).__name__}")
    if value < 0:
        raise PolicyConfigError(f"{key}.{name}", "must not be negative (0 = no limit)")
    return value


def peer_limits_from_mapping(table: Any, key: str = "policy.peer_limits") -> PeerLimits:
    """Validate ``[policy.peer_limits]`` and its ``[[…overrides]]``; errors name the key."""
    from policy.settings import normalize_domain

    if not isinstance(table, Mapping):
        raise PolicyConfigError(key, f"expected a table, got {type(table).__name__}")
    allowed = {*KEYS, "overrides"}
    for name in table:
        if name not in allowed:
            raise PolicyConfigError(
                f"{key}.{name}", f"unknown key (expected one of: {', '.join(sorted(allowed))})"
            )
    default = PeerLimit(**{name: _count(table, name, key, 0) for name in KEYS})
    raw = table.get("overrides", [])
    if not isinstance(raw, list):
        raise PolicyConfigError(f"{key}.overrides", "expected an array of tables")
    overrides: list[PeerLimitOverride] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        item_key = f"{key}.overrides[{index}]"
        if not isinstance(item, Mapping):
            raise PolicyConfigError(item_key, "expected a table")
        for name in item:
            if name not in ("domain", *KEYS):
                raise PolicyConfigError(
                    f"{item_key}.{name}",
                    f"unknown key (expected one of: domain, {', '.join(KEYS)})",
                )
        domain = item.get("domain")
        if not isinstance(domain, str):
            raise PolicyConfigError(f"{item_key}.domain", "required key is missing")
        domain = normalize_domain(domain, f"{item_key}.domain")
        if domain in seen:
            raise PolicyConfigError(f"{item_key}.domain", f"duplicate {domain!r}")
        seen.add(domain)
        # A key the override leaves out keeps the default.
        limit = PeerLimit(
            **{f.name: _count(item, f.name, item_key, getattr(default, f.name))
               for f in fields(PeerLimit)}
        )  # fmt: skip
        overrides.append(PeerLimitOverride(domain, limit))
    return PeerLimits(default, tuple(overrides))
