"""Enforcing [policy.peer_limits]: requests and activities at the inbox, media bytes in the
remote media cache.

Counts live in the database (``storage/peer_usage.py``): one conditional upsert per count,
so every process of ``serve --workers N`` (or a fleet of web and worker processes) adds to
the same total and none can let a peer past its limit. The limits library's in-memory store
counts per process, and Redis is optional; the database is always there and the write is
only made for a host that has a limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from activitypub.keys import LRU
from activitypub.policy_gate import PolicyGate
from policy.audit import Decision
from policy.base import Direction
from policy.peer_limits import KINDS, RULE, window
from storage.store import Store


@dataclass(frozen=True, slots=True)
class Throttled:
    """Over a limit: what to tell the peer (``Retry-After`` seconds) and the log."""

    limit_key: str
    retry_after: int
    reason: str
    enforced: bool


def _now_ms() -> int:
    return int(time.time() * 1000)


class PeerLimiter:
    """Takes a peer's use against its limits, and logs the first refusal of each window."""

    def __init__(self, store: Store, gate: PolicyGate) -> None:
        self.store = store
        self.gate = gate
        # (host, limit, window) already logged by this process: a peer that keeps trying
        # is logged once per window, not once per request.
        self._logged: LRU[bool] = LRU(4096)
        self.clock: Callable[[], int] = _now_ms  # milliseconds; tests pin it to one window

    def limit_of(self, host: str, limit_key: str) -> int:
        return int(getattr(self.gate.settings.peer_limits.for_host(host), limit_key))

    async def take(
        self,
        host: str,
        limit_key: str,
        amount: int = 1,
        *,
        direction: Direction = "inbound",
        activity: Mapping[str, Any] | None = None,
        now_ms: int | None = None,
    ) -> Throttled | None:
        """Count ``amount`` against ``host``'s ``limit_key``; a Throttled (nothing counted)
        when that would pass the limit. In dry run the refusal is logged, not enforced."""
        limit = self.limit_of(host, limit_key)
        if not limit:
            return None
        now = self.clock() if now_ms is None else now_ms
        start, end = window(limit_key, now)
        kind = KINDS[limit_key][0]
        total = await self.store.peer_usage.take_usage(host, kind, start, amount, limit)
        if total is not None:
            return None
        return await self._refused(host, limit_key, limit, start, end, now, direction, activity)

    async def over(
        self, host: str, limit_key: str, *, direction: Direction = "fetch", now_ms: int | None = None
    ) -> Throttled | None:
        """Whether ``host`` has used all of ``limit_key`` in this window (media: checked
        before a fetch whose size is not known yet)."""
        limit = self.limit_of(host, limit_key)
        if not limit:
            return None
        now = self.clock() if now_ms is None else now_ms
        start, end = window(limit_key, now)
        used = await self.store.peer_usage.usage(host, KINDS[limit_key][0], start)
        if used < limit:
            return None
        return await self._refused(host, limit_key, limit, start, end, now, direction, None)

    async def add(self, host: str, limit_key: str, amount: int, *, now_ms: int | None = None) -> None:
        """Count what was used already (media bytes fetched), past the limit or not."""
        if not self.limit_of(host, limit_key):
            return
        now = self.clock() if now_ms is None else now_ms
        start, _ = window(limit_key, now)
        await self.store.peer_usage.add_usage(host, KINDS[limit_key][0], start, amount)

    async def _refused(
        self,
        host: str,
        limit_key: str,
        limit: int,
        start: int,
        end: int,
        now: int,
        direction: Direction,
        activity: Mapping[str, Any] | None,
    ) -> Throttled:
        retry_after = max(1, -(-(end - now) // 1000))
        reason = f"{limit_key} = {limit} reached for {host}; retry after {retry_after} s"
        enforced = not self.gate.pipeline.dry_run
        key = f"{host} {limit_key} {start}"
        if not self._logged.get(key):
            self._logged.put(key, True)
            activity_id = activity.get("id") if activity is not None else None
            activity_type = activity.get("type") if activity is not None else None
            await self.gate.record(
                [
                    Decision(
                        time=datetime.now(UTC),
                        direction=direction,
                        peer=host,
                        actor=None,
                        activity_id=activity_id if isinstance(activity_id, str) else None,
                        activity_type=activity_type if isinstance(activity_type, str) else "",
                        rule=RULE,
                        action="throttle",
                        enforced=enforced,
                        reason=reason,
                    )
                ]
            )
        return Throttled(limit_key, retry_after, reason, enforced)

    async def prune(self, now_ms: int | None = None) -> int:
        """Forget counts of windows that ended more than a day ago."""
        now = self.clock() if now_ms is None else now_ms
        return await self.store.peer_usage.prune_usage(now - 2 * 86_400_000)
