"""The policy in force: file settings merged with runtime domain rules, plus the audit log.

One object guards all three directions (inbound, outbound, fetch). It holds a compiled
``Pipeline``; a reload (SIGHUP, or an admin API change) builds a new one and swaps it in
whole, so a request never sees half a policy and a bad rule never replaces a good one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from policy.audit import Decision
from policy.base import Direction, PolicyContext
from policy.pipeline import HostDecision, Outcome, Pipeline
from policy.settings import DomainAllow, DomainBlock, PolicySettings
from storage.models import DomainAllowRow, DomainBlockRow
from storage.policy_rows import NewDecision
from storage.store import Store

log = logging.getLogger("fedinode.policy")


def block_from_row(row: DomainBlockRow) -> DomainBlock:
    return DomainBlock(
        domain=row.domain,
        severity=row.severity,  # type: ignore[arg-type]
        reject_media=row.reject_media,
        reject_reports=row.reject_reports,
        federated_timeline_removal=row.federated_timeline_removal,
        followers_only=row.followers_only,
        avatar_removal=row.avatar_removal,
        banner_removal=row.banner_removal,
        reject_deletes=row.reject_deletes,
        public_comment=row.public_comment,
        private_comment=row.private_comment,
        obfuscate=row.obfuscate,
    )


def allow_from_row(row: DomainAllowRow) -> DomainAllow:
    return DomainAllow(domain=row.domain)


def decision_to_row(d: Decision) -> NewDecision:
    return NewDecision(
        time=int(d.time.timestamp() * 1000),
        direction=d.direction,
        peer=d.peer,
        actor=d.actor,
        activity_id=d.activity_id,
        activity_type=d.activity_type,
        rule=d.rule,
        action=d.action,
        enforced=d.enforced,
        reason=d.reason,
    )


class PolicyGate:
    def __init__(self, settings: PolicySettings, store: Store) -> None:
        self._file_settings = settings
        self._store = store
        self.settings = settings
        self.pipeline = Pipeline(settings)

    async def refresh(self, settings: PolicySettings | None = None) -> None:
        """Rebuild from (new) file settings and the database's domain rules.

        Raises PolicyConfigError and keeps the pipeline in force if the result is invalid.
        """
        base = settings or self._file_settings
        blocks = [block_from_row(r) for r in await self._store.policy.domain_blocks()]
        allows = [allow_from_row(r) for r in await self._store.policy.domain_allows()]
        merged = base.merged(blocks, allows)
        pipeline = Pipeline(merged)
        self._file_settings = base
        self.settings = merged
        self.pipeline = pipeline

    async def check_host(
        self,
        host: str,
        direction: Direction,
        *,
        activity: Mapping[str, Any] | None = None,
        actor: str | None = None,
    ) -> HostDecision:
        """A peer check, recorded when it refuses (or would refuse, in dry run)."""
        decision = self.pipeline.check_host(host, direction)
        if decision.rule:
            await self.record(
                [
                    Decision(
                        time=datetime.now(UTC),
                        direction=direction,
                        peer=host,
                        actor=actor,
                        activity_id=_str(activity, "id"),
                        activity_type=_str(activity, "type") or "",
                        rule=decision.rule,
                        action="reject",
                        enforced=decision.enforced,
                        reason=decision.reason,
                    )
                ]
            )
        return decision

    async def run(
        self,
        activity: Mapping[str, Any],
        *,
        direction: Direction,
        peer: str,
        actor: str | None,
        local: bool = False,
        actor_first_seen: datetime | None = None,
    ) -> Outcome:
        ctx = PolicyContext(
            direction=direction,
            peer=peer,
            actor=actor,
            local=local,
            now=datetime.now(UTC),
            actor_first_seen=actor_first_seen,
        )
        outcome = self.pipeline.run(activity, ctx)
        await self.record(list(outcome.decisions))
        return outcome

    async def record(self, decisions: list[Decision]) -> None:
        if not decisions:
            return
        for d in decisions:
            log.info(
                "policy %s %s %s from %s: %s (%s)%s",
                d.direction,
                d.action,
                d.activity_type,
                d.peer,
                d.rule,
                d.reason,
                "" if d.enforced else " [dry run]",
            )
        await self._store.policy.record_decisions([decision_to_row(d) for d in decisions])

    def describe(self, private: bool = False) -> dict[str, Any]:
        return self.pipeline.describe(private=private)


def _str(activity: Mapping[str, Any] | None, key: str) -> str | None:
    if activity is None:
        return None
    value = activity.get(key)
    return value if isinstance(value, str) else None
