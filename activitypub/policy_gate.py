"""The policy in force: file settings merged with runtime domain rules, plus the audit log.

One object guards all three directions (inbound, outbound, fetch). It holds a compiled
``Pipeline``; a reload (SIGHUP, or an admin API change) builds a new one and swaps it in
whole, so a request never sees half a policy and a bad rule never replaces a good one.

Several processes may share one PostgreSQL: the process that changes a domain rule
refreshes at once and notifies ``fedinode_policy`` (scoped to the schema, through the
database or Redis: ``storage.events.notify``); the others refresh when it arrives, and every
process re-reads the rules every ``REFRESH_EVERY`` seconds anyway, in case a notification
was lost (a dropped LISTEN connection, a Redis restart). ``maintain`` runs that loop and
prunes decisions older than ``audit_retention_days``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from activitypub import periodic, vocab
from policy.audit import Decision
from policy.base import Direction, PolicyContext
from policy.errors import PolicyConfigError
from policy.pipeline import HostDecision, Outcome, Pipeline
from policy.settings import SEVERITIES, DomainAllow, DomainBlock, PolicySettings, normalize_domain
from storage import events
from storage.models import DomainAllowRow, DomainBlockRow
from storage.policy_rows import NewDecision
from storage.store import Store

log = logging.getLogger("fedinode.policy")

CHANNEL = "fedinode_policy"
REFRESH_EVERY = 30.0  # seconds between safety-net re-reads of the database's rules
PRUNE_EVERY = 3600.0  # seconds between prunes of old decisions
PRUNE_JOB = "policy_decisions_prune"  # its lease row (activitypub.periodic)
_DAY_MS = 86_400_000


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


def valid_row(row: DomainBlockRow | DomainAllowRow) -> bool:
    """Rows written by the admin API are valid; one edited in by hand may not be."""
    try:
        normalize_domain(row.domain)
    except PolicyConfigError:
        return False
    return not isinstance(row, DomainBlockRow) or row.severity in SEVERITIES


class PolicyGate:
    """The policy in force for this process, refreshed from the file and the database."""

    def __init__(self, settings: PolicySettings, store: Store) -> None:
        self._file_settings = settings
        self._store = store
        self._rows: tuple[tuple[DomainBlockRow, ...], tuple[DomainAllowRow, ...]] | None = None
        self._origin = f"{os.getpid()}-{secrets.token_hex(4)}"
        self.settings = settings
        self.pipeline = Pipeline(settings)
        self._limited: tuple[Pipeline, float, frozenset[str]] | None = None
        # Decisions made by this process: (direction, rule, action, enforced) → how many.
        self.decided: Counter[tuple[str, str, str, bool]] = Counter()

    @property
    def file_settings(self) -> PolicySettings:
        """The [policy] of the configuration file, before the database's rules are merged."""
        return self._file_settings

    def candidate(self, blocks: Iterable[DomainBlock], allows: Iterable[DomainAllow]) -> Pipeline:
        """The pipeline these runtime rules would give, without putting it in force.

        Raises PolicyConfigError for a rule the engine refuses.
        """
        return Pipeline(self._file_settings.merged(blocks, allows))

    async def _load_rows(
        self,
    ) -> tuple[tuple[DomainBlockRow, ...], tuple[DomainAllowRow, ...]]:
        blocks = tuple(await self._store.policy.domain_blocks())
        allows = tuple(await self._store.policy.domain_allows())
        return blocks, allows

    async def refresh(self, settings: PolicySettings | None = None) -> None:
        """Rebuild from (new) file settings and the database's domain rules.

        Raises PolicyConfigError and keeps the pipeline in force if the result is invalid.
        """
        rows = await self._load_rows()
        self._install(settings or self._file_settings, rows)

    async def refresh_if_changed(self) -> bool:
        """Re-read the database's rules; rebuild only when they differ from those in force."""
        rows = await self._load_rows()
        if rows == self._rows:
            return False
        self._install(self._file_settings, rows)
        log.info("policy refreshed: domain rules changed in the database")
        return True

    def _install(
        self,
        base: PolicySettings,
        rows: tuple[tuple[DomainBlockRow, ...], tuple[DomainAllowRow, ...]],
    ) -> None:
        block_rows, allow_rows = rows
        invalid: list[DomainBlockRow | DomainAllowRow] = [r for r in block_rows if not valid_row(r)]
        invalid += [r for r in allow_rows if not valid_row(r)]
        for row in invalid:
            log.error("ignoring invalid domain rule %r in the database", row)
        blocks = [block_from_row(r) for r in block_rows if valid_row(r)]
        allows = [allow_from_row(r) for r in allow_rows if valid_row(r)]
        pipeline = Pipeline(base.merged(blocks, allows))
        self._file_settings = base
        self.settings = pipeline.settings
        self.pipeline = pipeline
        self._rows = rows
        self._limited = None

    async def limited_domains(self) -> frozenset[str]:
        """Known peer domains whose posts stay out of public timelines: suspended, silenced,
        or blocked with federated_timeline_removal / followers_only. New posts from them are
        already rewritten on arrival; this also hides what was cached before the block.
        Computed once per policy in force and again at most every minute (new domains)."""
        now = time.monotonic()
        cached = self._limited
        if cached is not None and cached[0] is self.pipeline and now - cached[1] < 60:
            return cached[2]
        pipeline = self.pipeline
        limited: set[str] = set()
        if pipeline.settings.domain_blocks:
            for domain in await self._store.accounts.domains():
                block = pipeline.domain_block_for(domain)
                if block is not None and (
                    block.severity in ("suspend", "silence")
                    or block.federated_timeline_removal
                    or block.followers_only
                ):
                    limited.add(domain)
        result = frozenset(limited)
        self._limited = (pipeline, now, result)
        return result

    async def changed(self) -> None:
        """After a change to the database's rules: refresh here, tell the other processes."""
        await self.refresh()
        try:
            await events.notify(self._store.db, CHANNEL, self._origin)
        except Exception:  # the periodic refresh still reaches the other processes
            log.warning("could not notify other processes of a policy change", exc_info=True)

    async def prune(self, now_ms: int | None = None) -> int:
        """Delete decisions older than audit_retention_days; returns how many."""
        now = int(time.time() * 1000) if now_ms is None else now_ms
        cutoff = now - self.settings.audit_retention_days * _DAY_MS
        deleted = await self._store.policy.prune_decisions(cutoff)
        if deleted:
            log.info(
                "pruned %d policy decision(s) older than %d days",
                deleted,
                self.settings.audit_retention_days,
            )
        return deleted

    async def _pump(self, messages: AsyncIterator[str], changed: asyncio.Event) -> None:
        async for payload in messages:
            if payload != self._origin:
                changed.set()

    async def maintain(
        self,
        *,
        prune: bool = True,
        refresh_every: float = REFRESH_EVERY,
        prune_every: float = PRUNE_EVERY,
    ) -> None:
        """Run until cancelled: follow other processes' changes, prune old decisions."""
        next_prune = 0.0
        while True:
            try:
                async with events.listen(self._store.db, CHANNEL) as messages:
                    changed = asyncio.Event()
                    pump_task = asyncio.create_task(self._pump(messages, changed))
                    try:
                        while True:
                            if prune and time.monotonic() >= next_prune:
                                # Once per period across the fleet (a lease row).
                                next_prune = time.monotonic() + prune_every
                                await periodic.run_if_due(
                                    self._store, PRUNE_JOB, prune_every, self.prune
                                )
                                next_prune = time.monotonic() + await periodic.seconds_until_due(
                                    self._store, PRUNE_JOB, prune_every
                                )
                            with contextlib.suppress(TimeoutError):
                                await asyncio.wait_for(changed.wait(), refresh_every)
                            changed.clear()
                            await self.refresh_if_changed()
                            if pump_task.done():
                                pump_task.result()  # the LISTEN connection failed: reconnect
                                break
                    finally:
                        pump_task.cancel()
                        with contextlib.suppress(asyncio.CancelledError, Exception):
                            await pump_task
            except asyncio.CancelledError:
                raise
            except PolicyConfigError as exc:
                log.error("policy refresh refused, the policy in force stays: %s", exc)
                await asyncio.sleep(refresh_every)
            except Exception:
                log.warning("policy maintenance failed; retrying", exc_info=True)
                await asyncio.sleep(refresh_every)

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

    async def filter_fetched(self, obj: Mapping[str, Any], *, peer: str) -> dict[str, Any] | None:
        """A fetched document through the pipeline (direction "fetch"): the object to store,
        possibly rewritten, or None when the policy refuses it.

        Content rules look into what a Create carries, so a fetched note is judged as the
        Create that would have brought it (a boost's object, a reply's parent, a search
        result get the same verdict as a delivered post); actors are judged as they are
        (avatar and banner removal apply to them).
        """
        doc: dict[str, Any] = obj if isinstance(obj, dict) else dict(obj)
        types = _types(doc)
        if types & vocab.ACTOR_TYPES or not types & vocab.STATUS_TYPES:
            outcome = await self.run(doc, direction="fetch", peer=peer, actor=_ref(doc.get("id")))
            return outcome.activity if outcome.accepted else None
        author = _ref(doc.get("attributedTo"))
        wrapper: dict[str, Any] = {
            "id": doc.get("id"),
            "type": vocab.CREATE,
            "actor": author,
            "object": doc,
            "to": doc.get("to", []),
            "cc": doc.get("cc", []),
        }
        ctx = PolicyContext(
            direction="fetch", peer=peer, actor=author, local=False, now=datetime.now(UTC)
        )
        outcome = self.pipeline.run(wrapper, ctx)
        kind = next(iter(sorted(types & vocab.STATUS_TYPES)))
        await self.record([replace(d, activity_type=kind) for d in outcome.decisions])
        if not outcome.accepted or outcome.activity is None:
            return None
        result = outcome.activity.get("object")
        return result if isinstance(result, dict) else doc

    async def record(self, decisions: list[Decision]) -> None:
        if not decisions:
            return
        for d in decisions:
            self.decided[(d.direction, d.rule, d.action, d.enforced)] += 1
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


def _types(doc: Mapping[str, Any]) -> set[str]:
    value = doc.get("type")
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()


def _ref(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        found = value.get("id")
        return found if isinstance(found, str) else None
    if isinstance(value, list) and value:
        return _ref(value[0])
    return None


def _str(activity: Mapping[str, Any] | None, key: str) -> str | None:
    if activity is None:
        return None
    value = activity.get(key)
    return value if isinstance(value, str) else None
