"""Runtime federation policy: domain blocks and allows, what they sever, CSV, decisions.

Every change is validated by compiling the whole policy it would produce *before* it is
stored (a rule the engine refuses never reaches the database, and the policy in force
stays); once stored, the gate is refreshed at once and the other processes are told.
A change that makes the policy refuse a peer it accepted before (a suspend, or removing an
allow in allowlist mode) severs the follows and follow requests between us and that peer,
both ways, as Mastodon does; cached statuses are purged only when asked.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from activitypub.policy_gate import PolicyGate, allow_from_row, block_from_row
from fedinode.errors import ValidationFailed
from policy.audit import Decision
from policy.base import Direction, PolicyContext
from policy.errors import PolicyConfigError
from policy.pipeline import Pipeline
from policy.settings import (
    BLOCK_FLAGS,
    BLOCK_TEXTS,
    FINER_BLOCK_FLAGS,
    SEVERITIES,
    DomainAllow,
    DomainBlock,
    normalize_domain,
)
from storage.errors import NotFound
from storage.models import DomainAllowRow, DomainBlockRow, PolicyDecisionRow
from storage.paging import Page
from storage.store import Store

DIRECTIONS = ("inbound", "outbound", "fetch")
DEFAULT_SEVERITY = "silence"  # Mastodon's default for the admin API
CSV_COLUMNS = (
    "domain",
    "severity",
    "reject_media",
    "reject_reports",
    "public_comment",
    "obfuscate",
)
CSV_EXTRA_COLUMNS = (*FINER_BLOCK_FLAGS, "private_comment")
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"", "0", "false", "f", "no", "n", "off"})
_MAX_COMMENT = 1000


class DomainBlockExists(ValidationFailed):
    """POST of a domain that already has a block: Mastodon answers 422 with the block."""

    def __init__(self, existing: DomainBlockRow) -> None:
        super().__init__(f"{existing.domain} is already blocked")
        self.existing = existing


@dataclass(frozen=True, slots=True)
class Impact:
    """What a policy change severs: peers newly refused and what we hold with them."""

    domain: str
    severity: str
    domains: tuple[str, ...] = ()
    follows_severed: int = 0  # local accounts following them
    followers_severed: int = 0  # their accounts following local ones
    follow_requests_dropped: int = 0
    cached_statuses: int = 0
    statuses_purged: int = 0


@dataclass(frozen=True, slots=True)
class BlockChange:
    block: DomainBlockRow
    impact: Impact


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: tuple[DomainBlockRow, ...] = ()
    updated: tuple[DomainBlockRow, ...] = ()
    skipped: tuple[str, ...] = ()
    severed: tuple[Impact, ...] = ()


@dataclass(frozen=True, slots=True)
class BlockInput:
    """Validated admin input for a block; None fields are left as they are (PUT)."""

    severity: str | None = None
    flags: Mapping[str, bool] = field(default_factory=dict)
    texts: Mapping[str, str] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.severity is not None:
            out["severity"] = self.severity
        out.update(self.flags)
        out.update(self.texts)
        return out


# -- validation -------------------------------------------------------------------------


def clean_domain(value: str | None) -> str:
    """The admin's domain, normalised as the engine stores it; 422 when it is not one."""
    if value is None or not value.strip():
        raise ValidationFailed("Validation failed: domain is required")
    try:
        return normalize_domain(value, "domain")
    except PolicyConfigError as exc:
        raise ValidationFailed(f"Validation failed: {exc}") from None


def block_input(
    severity: str | None,
    flags: Mapping[str, bool | None],
    texts: Mapping[str, str | None],
    *,
    creating: bool,
) -> BlockInput:
    """Check severity and comments; fill Mastodon's defaults when creating."""
    if severity is None and creating:
        severity = DEFAULT_SEVERITY
    if severity is not None:
        severity = severity.strip().lower()
        if severity not in SEVERITIES:
            raise ValidationFailed(
                f"Validation failed: severity {severity!r} is not one of suspend, silence, noop"
            )
    clean_flags = {k: v for k, v in flags.items() if v is not None}
    clean_texts = {k: v for k, v in texts.items() if v is not None}
    for name, text in clean_texts.items():
        if len(text) > _MAX_COMMENT:
            raise ValidationFailed(
                f"Validation failed: {name} is too long (at most {_MAX_COMMENT} characters)"
            )
    if creating:
        clean_flags = {name: bool(clean_flags.get(name, False)) for name in BLOCK_FLAGS}
        clean_texts = {name: clean_texts.get(name, "") for name in BLOCK_TEXTS}
    unknown = set(clean_flags) - set(BLOCK_FLAGS) | set(clean_texts) - set(BLOCK_TEXTS)
    if unknown:
        raise ValidationFailed(f"Validation failed: unknown fields {sorted(unknown)}")
    return BlockInput(severity=severity, flags=clean_flags, texts=clean_texts)


def _block(domain: str, fields: Mapping[str, Any]) -> DomainBlock:
    return DomainBlock(domain=domain, **fields)


async def _candidate(
    store: Store,
    gate: PolicyGate,
    *,
    put_blocks: Iterable[DomainBlock] = (),
    drop_block_ids: Iterable[int] = (),
    put_allows: Iterable[DomainAllow] = (),
    drop_allow_ids: Iterable[int] = (),
) -> Pipeline:
    """The pipeline the database's rules would give after a change; 422 if refused."""
    dropped_blocks, dropped_allows = set(drop_block_ids), set(drop_allow_ids)
    new_blocks = {b.domain: b for b in put_blocks}
    new_allows = {a.domain: a for a in put_allows}
    blocks = [
        block_from_row(r)
        for r in await store.policy.domain_blocks()
        if r.id not in dropped_blocks and r.domain not in new_blocks
    ]
    allows = [
        allow_from_row(r)
        for r in await store.policy.domain_allows()
        if r.id not in dropped_allows and r.domain not in new_allows
    ]
    try:
        return gate.candidate([*blocks, *new_blocks.values()], [*allows, *new_allows.values()])
    except PolicyConfigError as exc:
        raise ValidationFailed(f"Validation failed: {exc}") from None


# -- impact and severing -----------------------------------------------------------------


def _refused(pipeline: Pipeline, domain: str) -> bool:
    return not pipeline.check_host(domain, "outbound").allowed


async def newly_refused(store: Store, old: Pipeline, new: Pipeline) -> list[str]:
    """Known peer domains the new policy refuses and the old one did not."""
    return [
        d for d in await store.policy.known_domains() if _refused(new, d) and not _refused(old, d)
    ]


async def _impact(store: Store, domain: str, severity: str, old: Pipeline, new: Pipeline) -> Impact:
    domains = await newly_refused(store, old, new)
    if not domains:
        return Impact(domain=domain, severity=severity)
    following, followers, requests, statuses = await store.policy.domain_impact(domains)
    return Impact(
        domain=domain,
        severity=severity,
        domains=tuple(domains),
        follows_severed=following,
        followers_severed=followers,
        follow_requests_dropped=requests,
        cached_statuses=statuses,
    )


async def _sever(store: Store, impact: Impact, *, purge: bool) -> Impact:
    """Remove follows both ways and pending requests with the impact's domains."""
    if not impact.domains:
        return impact
    domains = list(impact.domains)
    for account_id, target_id in await store.policy.follows_with_domains(domains):
        await store.relationships.unfollow(account_id, target_id)
    await store.policy.delete_requests_with_domains(domains)
    purged = await store.policy.purge_statuses(domains) if purge else 0
    return replace(impact, statuses_purged=purged)


async def sever_newly_refused(store: Store, old: Pipeline, new: Pipeline, *, reason: str) -> Impact:
    """After a policy change (e.g. a file reload): cut follows with peers it now refuses."""
    return await _sever(store, await _impact(store, reason, "reload", old, new), purge=False)


async def preview(store: Store, gate: PolicyGate, domain: str, severity: str = "suspend") -> Impact:
    """What blocking ``domain`` with ``severity`` would sever now (nothing is changed)."""
    clean = clean_domain(domain)
    spec = block_input(severity, {}, {}, creating=True)
    new = await _candidate(store, gate, put_blocks=[_block(clean, spec.fields())])
    return await _impact(store, clean, spec.severity or "suspend", gate.pipeline, new)


# -- the admin's changes in the policy log ----------------------------------------------

ADMIN_RULE = "admin"


async def _log_change(
    gate: PolicyGate,
    by: str | None,
    kind: str,
    domain: str,
    action: str,
    what: str,
    impact: Impact | None,
) -> None:
    """One policy log record for an admin's change (rule ``admin``, the admin as reason),
    when the caller names the admin (the admin panel does)."""
    if by is None:
        return
    reason = f"{kind} {what} by {by}"
    if impact is not None and impact.domains:
        reason += (
            f"; severed {impact.follows_severed} follow(s), {impact.followers_severed}"
            f" follower(s), {impact.follow_requests_dropped} request(s)"
        )
    await gate.record(
        [
            Decision(
                time=datetime.now(UTC),
                direction="inbound",
                peer=domain,
                actor=None,
                activity_id=None,
                activity_type=kind,
                rule=ADMIN_RULE,
                action=action,
                enforced=True,
                reason=reason,
            )
        ]
    )


# -- domain blocks -----------------------------------------------------------------------


async def list_blocks(store: Store, page: Page) -> list[DomainBlockRow]:
    return await store.policy.domain_blocks_page(page)


async def get_block(store: Store, block_id: int) -> DomainBlockRow:
    row = await store.policy.domain_block(block_id)
    if row is None:
        raise NotFound(f"domain block {block_id}")
    return row


async def create_block(
    store: Store,
    gate: PolicyGate,
    domain: str,
    spec: BlockInput,
    *,
    purge: bool = False,
    by: str | None = None,
) -> BlockChange:
    clean = clean_domain(domain)
    existing = await store.policy.domain_block_by_domain(clean)
    if existing is not None:
        raise DomainBlockExists(existing)
    fields = spec.fields()
    new = await _candidate(store, gate, put_blocks=[_block(clean, fields)])
    old = gate.pipeline
    impact = await _impact(store, clean, str(fields.get("severity")), old, new)
    row = await store.policy.create_domain_block(clean, **fields)
    await gate.changed()
    change = BlockChange(row, await _sever(store, impact, purge=purge))
    await _log_change(gate, by, "DomainBlock", clean, row.severity, "added", change.impact)
    return change


async def update_block(
    store: Store,
    gate: PolicyGate,
    block_id: int,
    spec: BlockInput,
    *,
    purge: bool = False,
    by: str | None = None,
) -> BlockChange:
    current = await get_block(store, block_id)
    fields = spec.fields()
    merged = {**_row_fields(current), **fields}
    new = await _candidate(store, gate, put_blocks=[_block(current.domain, merged)])
    impact = await _impact(store, current.domain, merged["severity"], gate.pipeline, new)
    row = await store.policy.update_domain_block(block_id, **fields)
    if row is None:
        raise NotFound(f"domain block {block_id}")
    await gate.changed()
    change = BlockChange(row, await _sever(store, impact, purge=purge))
    await _log_change(gate, by, "DomainBlock", row.domain, row.severity, "changed", change.impact)
    return change


async def delete_block(
    store: Store, gate: PolicyGate, block_id: int, *, by: str | None = None
) -> DomainBlockRow:
    current = await get_block(store, block_id)
    await _candidate(store, gate, drop_block_ids=[block_id])
    row = await store.policy.delete_domain_block(block_id)
    if row is None:
        raise NotFound(f"domain block {block_id}")
    await gate.changed()
    await _log_change(gate, by, "DomainBlock", current.domain, "unblock", "removed", None)
    return current


def _row_fields(row: DomainBlockRow) -> dict[str, Any]:
    out: dict[str, Any] = {"severity": row.severity}
    for name in (*BLOCK_FLAGS, *BLOCK_TEXTS):
        out[name] = getattr(row, name)
    return out


async def apply_batch(
    store: Store,
    gate: PolicyGate,
    *,
    reason: str,
    blocks: Mapping[str, BlockInput] | None = None,
    unblock: Iterable[str] = (),
    allows: Iterable[str] = (),
    unallow: Iterable[str] = (),
) -> Impact:
    """Many rule changes as one (a subscribed list's sync): compiled together before
    anything is stored, severed together, one refresh. ``blocks`` maps a domain to the
    fields to set (a new block, or a change to the existing one)."""
    blocks = dict(blocks or {})
    existing = {r.domain: r for r in await store.policy.domain_blocks()}
    current_allows = {r.domain: r for r in await store.policy.domain_allows()}
    drop_blocks = [existing[d].id for d in unblock if d in existing]
    drop_allows = [current_allows[d].id for d in unallow if d in current_allows]
    new_allows = [d for d in allows if d not in current_allows]
    put = [
        _block(d, {**(_row_fields(existing[d]) if d in existing else {}), **spec.fields()})
        for d, spec in blocks.items()
    ]
    new = await _candidate(
        store, gate, put_blocks=put, drop_block_ids=drop_blocks,
        put_allows=[DomainAllow(domain=d) for d in new_allows], drop_allow_ids=drop_allows,
    )  # fmt: skip
    impact = await _impact(store, reason, "batch", gate.pipeline, new)
    for domain, spec in blocks.items():
        if domain in existing:
            await store.policy.update_domain_block(existing[domain].id, **spec.fields())
        else:
            await store.policy.create_domain_block(domain, **spec.fields())
    for block_id in drop_blocks:
        await store.policy.delete_domain_block(block_id)
    for domain in new_allows:
        await store.policy.create_domain_allow(domain)
    for allow_id in drop_allows:
        await store.policy.delete_domain_allow(allow_id)
    await gate.changed()
    return await _sever(store, impact, purge=False)


# -- domain allows -----------------------------------------------------------------------


async def list_allows(store: Store, page: Page) -> list[DomainAllowRow]:
    return await store.policy.domain_allows_page(page)


async def get_allow(store: Store, allow_id: int) -> DomainAllowRow:
    row = await store.policy.domain_allow(allow_id)
    if row is None:
        raise NotFound(f"domain allow {allow_id}")
    return row


async def create_allow(
    store: Store, gate: PolicyGate, domain: str, *, by: str | None = None
) -> DomainAllowRow:
    """Allow a domain; an existing allow is returned as it is (as Mastodon does)."""
    clean = clean_domain(domain)
    existing = await store.policy.domain_allow_by_domain(clean)
    if existing is not None:
        return existing
    await _candidate(store, gate, put_allows=[DomainAllow(domain=clean)])
    row = await store.policy.create_domain_allow(clean)
    await gate.changed()
    await _log_change(gate, by, "DomainAllow", clean, "allow", "added", None)
    return row


async def delete_allow(
    store: Store, gate: PolicyGate, allow_id: int, *, by: str | None = None
) -> tuple[DomainAllowRow, Impact]:
    """Remove an allow; in allowlist mode the peers it let in are severed."""
    current = await get_allow(store, allow_id)
    new = await _candidate(store, gate, drop_allow_ids=[allow_id])
    impact = await _impact(store, current.domain, "unallowed", gate.pipeline, new)
    await store.policy.delete_domain_allow(allow_id)
    await gate.changed()
    severed = await _sever(store, impact, purge=False)
    await _log_change(gate, by, "DomainAllow", current.domain, "unallow", "removed", severed)
    return current, severed


# -- CSV (Mastodon's export format) ------------------------------------------------------


def export_csv(gate: PolicyGate, *, extended: bool = False) -> str:
    """Every block in force (file and database) in Mastodon's CSV; ``extended`` adds our
    extra flags and the private comment as further columns."""
    columns = CSV_COLUMNS + (CSV_EXTRA_COLUMNS if extended else ())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["#" + c for c in columns])
    for block in gate.settings.domain_blocks:
        row: list[str] = []
        for name in columns:
            value = getattr(block, name)
            row.append(("true" if value else "false") if isinstance(value, bool) else str(value))
        writer.writerow(row)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class _CsvBlock:
    line: int
    domain: str
    spec: BlockInput


def _csv_bool(value: str, line: int, column: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationFailed(f"Validation failed: line {line}: {column}: not a boolean: {value!r}")


def parse_csv(text: str) -> list[_CsvBlock]:
    """Mastodon's domain-block CSV (``#domain,#severity,…``), or a bare list of domains
    (one per line: suspended). Any bad line refuses the whole file."""
    header: list[str] | None = None
    blocks: dict[str, _CsvBlock] = {}
    errors: list[str] = []
    known = set(CSV_COLUMNS) | set(CSV_EXTRA_COLUMNS)
    for line, cells in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1):
        if not cells or not "".join(cells).strip():
            continue
        names = [c.strip().lstrip("#").strip().lower() for c in cells]
        if header is None and "domain" in names:
            unknown = [n for n in names if n and n not in known]
            if unknown:
                errors.append(f"line {line}: unknown column(s) {', '.join(unknown)}")
            header = names
            continue
        if cells[0].lstrip().startswith("#"):
            continue  # a comment
        columns = header or list(CSV_COLUMNS)
        values = {
            name: cells[i].strip() for i, name in enumerate(columns) if name and i < len(cells)
        }
        try:
            domain = clean_domain(values.get("domain", ""))
            flags = {
                name: _csv_bool(values[name], line, name) for name in BLOCK_FLAGS if name in values
            }
            texts = {name: values[name] for name in BLOCK_TEXTS if name in values}
            spec = block_input(values.get("severity") or "suspend", flags, texts, creating=True)
        except ValidationFailed as exc:
            message = exc.message.removeprefix("Validation failed: ")
            errors.append(message if message.startswith("line ") else f"line {line}: {message}")
            continue
        blocks[domain] = _CsvBlock(line, domain, spec)
    if errors:
        shown = "; ".join(errors[:10]) + (
            f"; and {len(errors) - 10} more" if len(errors) > 10 else ""
        )
        raise ValidationFailed(f"Validation failed: nothing was imported: {shown}")
    return list(blocks.values())


async def import_csv(
    store: Store, gate: PolicyGate, text: str, *, overwrite: bool = False, purge: bool = False
) -> ImportResult:
    """Create the file's blocks in one change; existing ones are skipped unless
    ``overwrite``. The whole file is validated (and compiled) before anything is stored."""
    parsed = parse_csv(text)
    existing = {r.domain: r for r in await store.policy.domain_blocks()}
    to_create = [b for b in parsed if b.domain not in existing]
    to_update = [b for b in parsed if b.domain in existing and overwrite]
    skipped = tuple(b.domain for b in parsed if b.domain in existing and not overwrite)
    if not to_create and not to_update:
        return ImportResult(skipped=skipped)
    new = await _candidate(
        store,
        gate,
        put_blocks=[_block(b.domain, b.spec.fields()) for b in (*to_create, *to_update)],
    )
    impact = await _impact(store, "csv import", "import", gate.pipeline, new)
    created = [
        await store.policy.create_domain_block(b.domain, **b.spec.fields()) for b in to_create
    ]
    updated: list[DomainBlockRow] = []
    for b in to_update:
        row = await store.policy.update_domain_block(existing[b.domain].id, **b.spec.fields())
        if row is not None:
            updated.append(row)
    await gate.changed()
    severed = await _sever(store, impact, purge=purge)
    return ImportResult(
        created=tuple(created),
        updated=tuple(updated),
        skipped=skipped,
        severed=(severed,) if severed.domains else (),
    )


# -- decisions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Explanation:
    """What the policy in force says of an activity from a peer: the host check, every
    rule's verdict on its own, and the pipeline's outcome (``fedinode policy explain``)."""

    peer: str
    host: dict[str, Any] | None
    rules: list[dict[str, Any]]
    final: str
    decisions: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "peer": self.peer,
            "host": self.host,
            "rules": self.rules,
            "final": self.final,
            "decisions": self.decisions,
        }


def actor_of(activity: Mapping[str, Any]) -> str | None:
    actor = activity.get("actor")
    if isinstance(actor, dict):
        actor = actor.get("id")
    return actor if isinstance(actor, str) else None


def explain(
    gate: PolicyGate, activity: Mapping[str, Any], peer: str = "", direction: Direction = "inbound"
) -> Explanation:
    """Run one activity through the policy in force, changing and recording nothing;
    ``peer`` defaults to the host of its actor."""
    actor_id = actor_of(activity)
    if not peer and actor_id:
        peer = urlsplit(actor_id).netloc
    host = gate.pipeline.check_host(peer, direction) if peer else None
    ctx = PolicyContext(
        direction=direction, peer=peer, actor=actor_id, local=not peer, now=datetime.now(UTC)
    )
    verdicts = gate.pipeline.explain(activity, ctx)
    outcome = gate.pipeline.run(activity, ctx)
    return Explanation(
        peer=peer,
        host=None
        if host is None
        else {"allowed": host.allowed, "rule": host.rule, "reason": host.reason},
        rules=[v.to_json() for v in verdicts],
        final="accept" if outcome.accepted else "reject",
        decisions=[d.to_json() for d in outcome.decisions],
    )


async def decision(store: Store, decision_id: int) -> PolicyDecisionRow:
    """One record of the policy log."""
    rows = await store.policy.decisions(Page(max_id=decision_id + 1, limit=1))
    if not rows or rows[0].id != decision_id:
        raise NotFound(f"policy decision {decision_id}")
    return rows[0]


def decision_source(row: PolicyDecisionRow) -> str | None:
    """Where a change came from: a subscribed list's URL for its entries."""
    return row.activity_id if row.activity_type == "PolicyList" else None


async def decisions(
    store: Store,
    page: Page,
    *,
    direction: str | None = None,
    peer: str | None = None,
    rule: str | None = None,
) -> list[PolicyDecisionRow]:
    if direction and direction not in DIRECTIONS:
        raise ValidationFailed(
            f"Validation failed: direction {direction!r} is not one of {', '.join(DIRECTIONS)}"
        )
    return await store.policy.decisions(
        page, direction=direction or None, peer=(peer or "").lower() or None, rule=rule or None
    )


def impacts_total(impacts: Sequence[Impact]) -> dict[str, int]:
    return {
        "follows_severed": sum(i.follows_severed for i in impacts),
        "followers_severed": sum(i.followers_severed for i in impacts),
        "follow_requests_dropped": sum(i.follow_requests_dropped for i in impacts),
        "statuses_purged": sum(i.statuses_purged for i in impacts),
    }
