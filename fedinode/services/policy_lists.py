"""Shared policy lists: choosing what this instance publishes, subscribing to other
instances' lists, syncing them (apply or review), drafts, adoption.

Every rule a subscription creates, changes or removes goes through the same service as an
admin's change (validated, compiled, severing what a suspension severs) and lands in the
policy log with the subscription's URL as its source. Rules the admin made or adopted are
never touched by a subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from activitypub.fetch import Fetcher
from activitypub.policy_gate import PolicyGate
from activitypub.policy_lists import FetchedList, ListRefused, read_list
from fedinode.errors import ValidationFailed
from fedinode.services import policy as policy_service
from policy.audit import Decision
from policy.errors import PolicyConfigError
from policy.lists import (
    Held,
    Kind,
    ListEntry,
    SubscriptionSpec,
    SyncPlan,
    plan_sync,
    subscription_from_mapping,
)
from storage.errors import Conflict, NotFound
from storage.ids import now_ms
from storage.policy_lists import DraftRow, PolicyMarkRow, SubscriptionRow
from storage.store import Store

log = logging.getLogger("fedinode.policy.lists")

SYNC_EVERY_MS = 3_600_000  # a subscription is fetched again an hour after its last sync
TICK_SECONDS = 30.0  # how often the sync loop looks for due subscriptions
RULE = "subscription"
KINDS: tuple[Kind, ...] = ("block", "allow")


# -- what is published -------------------------------------------------------------------


async def published_entries(store: Store, gate: PolicyGate) -> list[ListEntry]:
    """The rules in force that are marked published (in the file or by an admin)."""
    marks = {(m.kind, m.domain): m for m in await store.policy_lists.marks()}
    chosen = set(gate.settings.published) | {k for k, m in marks.items() if m.published}
    out: list[ListEntry] = []
    for b in gate.settings.domain_blocks:
        if ("block", b.domain) in chosen:
            out.append(ListEntry("block", b.domain, b.severity, b.reject_media,
                                 b.reject_reports, b.obfuscate, b.public_comment))  # fmt: skip
    for a in gate.settings.domain_allows:
        if ("allow", a.domain) in chosen:
            mark = marks.get(("allow", a.domain))
            comment = a.public_comment or (mark.public_comment if mark else "")
            out.append(ListEntry("allow", a.domain, public_comment=comment))
    return out


def _in_force(gate: PolicyGate, kind: str, domain: str) -> bool:
    rules = gate.settings.domain_blocks if kind == "block" else gate.settings.domain_allows
    return any(r.domain == domain for r in rules)


async def set_published(
    store: Store, gate: PolicyGate, kind: str, domain: str | None, published: bool
) -> list[str]:
    """Publish (or not) one rule, or every rule of ``kind`` when ``domain`` is None;
    the domains changed. A domain with no such rule in force is a 422."""
    if kind not in KINDS:
        raise ValidationFailed(f"Validation failed: kind {kind!r} is not one of block, allow")
    if domain is None:
        rules = gate.settings.domain_blocks if kind == "block" else gate.settings.domain_allows
        domains = [r.domain for r in rules]
    else:
        clean = policy_service.clean_domain(domain)
        if not _in_force(gate, kind, clean):
            raise ValidationFailed(f"Validation failed: no domain {kind} for {clean}")
        domains = [clean]
    for d in domains:
        await store.policy_lists.set_mark(kind, d, published=published)
    return domains


async def adopt(store: Store, kind: str, domain: str) -> bool:
    """The admin claims a rule a subscription made: retractions no longer remove it."""
    mark = await store.policy_lists.mark(kind, domain)
    if mark is None or mark.subscription_id is None:
        return False
    await store.policy_lists.set_mark(kind, domain, subscription_id=None)
    return True


async def after_admin_change(
    store: Store, kind: str, domain: str, *, published: bool | None
) -> None:
    """An admin created or edited a rule: it is the admin's now (a retraction upstream no
    longer removes it), and published if ``published`` says so."""
    mark = await store.policy_lists.mark(kind, domain)
    if published is None and (mark is None or mark.subscription_id is None):
        return
    await store.policy_lists.set_mark(kind, domain, published=published, subscription_id=None)


async def marks(store: Store) -> dict[tuple[str, str], PolicyMarkRow]:
    """Every rule's list marks (published, made by which subscription), by (kind, domain)."""
    return {(m.kind, m.domain): m for m in await store.policy_lists.marks()}


# -- subscriptions -----------------------------------------------------------------------


def spec_of(row: SubscriptionRow) -> SubscriptionSpec:
    return SubscriptionSpec(
        url=row.url,
        mode=row.mode,  # type: ignore[arg-type]
        priority=row.priority,
        excludes=tuple(row.excludes),
        severities=tuple(row.severities),  # type: ignore[arg-type]
        allow_unsigned=row.allow_unsigned,
        title=row.title,
    )


def _values(spec: SubscriptionSpec) -> dict[str, Any]:
    return {
        "title": spec.title,
        "priority": spec.priority,
        "mode": spec.mode,
        "excludes": list(spec.excludes),
        "severities": list(spec.severities),
        "allow_unsigned": spec.allow_unsigned,
    }


def clean_spec(values: dict[str, object]) -> SubscriptionSpec:
    """Validate admin input with the configuration's rules (422 naming the field)."""
    try:
        return subscription_from_mapping(values, "subscription")
    except PolicyConfigError as exc:
        raise ValidationFailed(
            f"Validation failed: {str(exc).removeprefix('subscription.')}"
        ) from None


async def reconcile_config(store: Store, specs: Sequence[SubscriptionSpec]) -> None:
    """Make the database's file-made subscriptions match [[policy.subscriptions]]."""
    wanted = {s.url: s for s in specs}
    for row in await store.policy_lists.subscriptions():
        if row.from_config and row.url not in wanted:
            await store.policy_lists.delete_subscription(row.id)
    for spec in specs:
        found = await store.policy_lists.subscription_by_url(spec.url)
        if found is None:
            with contextlib.suppress(Conflict):
                await store.policy_lists.create_subscription(
                    spec.url, from_config=True, **_values(spec)
                )
        elif spec_of(found) != spec:
            await store.policy_lists.update_subscription(found.id, **_values(spec))


async def list_subscriptions(store: Store) -> list[SubscriptionRow]:
    return await store.policy_lists.subscriptions()


async def get_subscription(store: Store, subscription_id: int) -> SubscriptionRow:
    row = await store.policy_lists.subscription(subscription_id)
    if row is None:
        raise NotFound(f"subscription {subscription_id}")
    return row


async def create_subscription(store: Store, spec: SubscriptionSpec) -> SubscriptionRow:
    try:
        return await store.policy_lists.create_subscription(spec.url, **_values(spec))
    except Conflict:
        raise ValidationFailed(f"Validation failed: already subscribed to {spec.url}") from None


async def update_subscription(
    store: Store, subscription_id: int, changes: dict[str, object]
) -> SubscriptionRow:
    row = await get_subscription(store, subscription_id)
    if row.from_config:
        raise ValidationFailed(
            "Validation failed: this subscription is set in the configuration file"
        )
    merged = {**_values(spec_of(row)), "url": row.url, **changes}
    spec = clean_spec(merged)
    updated = await store.policy_lists.update_subscription(row.id, **_values(spec))
    if updated is None:
        raise NotFound(f"subscription {subscription_id}")
    return updated


async def delete_subscription(store: Store, subscription_id: int) -> SubscriptionRow:
    """Unsubscribe; the rules it made stay, as the admin's (Mastodon keeps imported blocks)."""
    row = await get_subscription(store, subscription_id)
    if row.from_config:
        raise ValidationFailed(
            "Validation failed: this subscription is set in the configuration file"
        )
    await store.policy_lists.delete_subscription(row.id)
    return row


# -- syncing -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncResult:
    subscription: SubscriptionRow
    plan: SyncPlan | None = None
    error: str = ""
    changed: tuple[str, ...] = field(default=())  # "block x.org", "unblock y.org", …

    @property
    def ok(self) -> bool:
        return not self.error


async def _held(store: Store, gate: PolicyGate) -> dict[tuple[Kind, str], Held]:
    """Every rule in force with the subscription that manages it."""
    priorities = {s.id: s.priority for s in await store.policy_lists.subscriptions()}
    marks = {(m.kind, m.domain): m for m in await store.policy_lists.marks()}
    held: dict[tuple[Kind, str], Held] = {}
    file_blocks = {b.domain for b in gate.file_settings.domain_blocks}
    file_allows = {a.domain for a in gate.file_settings.domain_allows}

    def owner(kind: Kind, domain: str, in_file: bool) -> tuple[int | None, int]:
        mark = marks.get((kind, domain))
        if in_file or mark is None or mark.subscription_id not in priorities:
            return None, 0
        sub = mark.subscription_id
        return sub, priorities[sub]

    for row in await store.policy.domain_blocks():
        entry = ListEntry("block", row.domain, row.severity, row.reject_media,  # type: ignore[arg-type]
                          row.reject_reports, row.obfuscate, row.public_comment)  # fmt: skip
        sub, prio = owner("block", row.domain, row.domain in file_blocks)
        held[entry.key] = Held(entry, sub, prio)
    for domain in file_blocks:
        held.setdefault(("block", domain), Held(ListEntry("block", domain), None))
    for allow in await store.policy.domain_allows():
        mark = marks.get(("allow", allow.domain))
        entry = ListEntry("allow", allow.domain, public_comment=mark.public_comment if mark else "")
        sub, prio = owner("allow", allow.domain, allow.domain in file_allows)
        held[entry.key] = Held(entry, sub, prio)
    for domain in file_allows:
        held.setdefault(("allow", domain), Held(ListEntry("allow", domain), None))
    return held


def _block_input(entry: ListEntry) -> policy_service.BlockInput:
    return policy_service.block_input(
        entry.severity,
        {"reject_media": entry.reject_media, "reject_reports": entry.reject_reports,
         "obfuscate": entry.obfuscate},
        {"public_comment": entry.public_comment},
        creating=True,
    )  # fmt: skip


async def _put(store: Store, gate: PolicyGate, entry: ListEntry, sub_id: int | None) -> None:
    """Create or overwrite the rule ``entry`` in force, managed by ``sub_id``."""
    if entry.kind == "block":
        existing = await store.policy.domain_block_by_domain(entry.domain)
        if existing is None:
            await policy_service.create_block(store, gate, entry.domain, _block_input(entry))
        else:
            await policy_service.update_block(store, gate, existing.id, _block_input(entry))
    else:
        await policy_service.create_allow(store, gate, entry.domain)
    await store.policy_lists.set_mark(
        entry.kind, entry.domain, subscription_id=sub_id, public_comment=entry.public_comment
    )


def _describe(entry: ListEntry) -> str:
    return f"{entry.severity} {entry.domain}" if entry.kind == "block" else f"allow {entry.domain}"


def _decision(url: str, action: str, entry: ListEntry | None, reason: str) -> Decision:
    """One policy log record whose source (activity_id) is the subscription's URL."""
    return Decision(
        time=datetime.now(UTC),
        direction="fetch",
        peer=entry.domain if entry is not None else _host_of(url),
        actor=None,
        activity_id=url,
        activity_type="PolicyList",
        rule=RULE,
        action=action,
        enforced=True,
        reason=reason,
    )


async def _log(
    gate: PolicyGate, url: str, action: str, entry: ListEntry | None, reason: str
) -> None:
    await gate.record([_decision(url, action, entry, reason)])


def _host_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc.lower()


def host_check(gate: PolicyGate) -> Callable[[str], bool]:
    return lambda host: gate.pipeline.check_host(host, "fetch").allowed


async def fetch_list(fetcher: Fetcher, gate: PolicyGate, row: SubscriptionRow) -> FetchedList:
    return await read_list(
        fetcher, row.url, allow_unsigned=row.allow_unsigned, host_allowed=host_check(gate)
    )


async def test_subscription(
    store: Store, gate: PolicyGate, fetcher: Fetcher, subscription_id: int
) -> tuple[FetchedList, SyncPlan]:
    """Fetch and check a list and say what a sync would change; nothing is changed."""
    row = await get_subscription(store, subscription_id)
    try:
        fetched = await fetch_list(fetcher, gate, row)
    except ListRefused as exc:
        raise ValidationFailed(f"Validation failed: list refused: {exc.reason}") from None
    return fetched, plan_sync(row.id, spec_of(row), fetched.entries, await _held(store, gate))


async def sync(
    store: Store, gate: PolicyGate, fetcher: Fetcher, row: SubscriptionRow
) -> SyncResult:
    """Fetch one subscription's list and bring the rules in force (or drafts) in line."""
    spec = spec_of(row)
    try:
        fetched = await fetch_list(fetcher, gate, row)
    except ListRefused as exc:
        log.warning("policy list %s refused: %s", row.url, exc.reason)
        await store.policy_lists.record_fetch(row.id, ok=False, error=exc.reason)
        await _log(gate, row.url, "refuse_list", None, exc.reason)
        return SyncResult(row, error=exc.reason)
    plan = plan_sync(row.id, spec, fetched.entries, await _held(store, gate))
    changed: list[str] = []
    source = f"from {row.url}" + (f" signed by {fetched.signed_by}" if fetched.signed_by else "")
    puts = (*plan.create, *plan.update, *plan.take_over)
    if puts or plan.retract:
        try:
            await policy_service.apply_batch(
                store,
                gate,
                reason=row.url,
                blocks={e.domain: _block_input(e) for e in puts if e.kind == "block"},
                allows=[e.domain for e in puts if e.kind == "allow"],
                unblock=[e.domain for e in plan.retract if e.kind == "block"],
                unallow=[e.domain for e in plan.retract if e.kind == "allow"],
            )
        except ValidationFailed as exc:
            reason = f"not applied: {exc.message.removeprefix('Validation failed: ')}"
            log.warning("policy list %s %s", row.url, reason)
            await store.policy_lists.record_fetch(row.id, ok=False, error=reason)
            await _log(gate, row.url, "refuse_list", None, reason)
            return SyncResult(row, plan, error=reason)
    records: list[Decision] = []
    created = set(plan.create)
    for entry in puts:
        await store.policy_lists.set_mark(
            entry.kind, entry.domain, subscription_id=row.id, public_comment=entry.public_comment
        )
        action = entry.kind if entry in created else f"update_{entry.kind}"
        changed.append(f"{action} {entry.domain}")
        records.append(_decision(row.url, action, entry, f"{_describe(entry)} {source}"))
    for entry in plan.retract:
        await store.policy_lists.set_mark(entry.kind, entry.domain, subscription_id=None)
        action = "unblock" if entry.kind == "block" else "unallow"
        changed.append(f"{action} {entry.domain}")
        records.append(_decision(row.url, action, entry, f"retracted upstream {source}"))
    wanted = {e.key for e in fetched.entries if spec.takes(e)}
    for draft in await store.policy_lists.drafts(row.id):
        if (draft.kind, draft.domain) not in wanted:
            await store.policy_lists.delete_draft(draft.id)  # retracted before review
    for entry in plan.drafts:
        if await store.policy_lists.put_draft(
            row.id,
            entry.kind,
            entry.domain,
            severity=entry.severity,
            reject_media=entry.reject_media,
            reject_reports=entry.reject_reports,
            obfuscate=entry.obfuscate,
            public_comment=entry.public_comment,
        ):
            changed.append(f"draft {entry.domain}")
            records.append(
                _decision(row.url, "draft", entry, f"{_describe(entry)} {source}, for review")
            )
    await gate.record(records)
    await store.policy_lists.record_fetch(
        row.id,
        ok=True,
        count=len(fetched.entries),
        content_type=fetched.content_type,
        signed_by=fetched.signed_by,
    )
    fresh = await store.policy_lists.subscription(row.id) or row
    return SyncResult(fresh, plan, changed=tuple(changed))


async def sync_all(
    store: Store, gate: PolicyGate, fetcher: Fetcher, only: Iterable[int] | None = None
) -> list[SyncResult]:
    """Sync every subscription (or those of ``only``), highest priority first."""
    wanted = set(only) if only is not None else None
    results = []
    for row in await store.policy_lists.subscriptions():
        if wanted is None or row.id in wanted:
            results.append(await sync(store, gate, fetcher, row))
    return results


async def sync_due(store: Store, gate: PolicyGate, fetcher: Fetcher) -> list[SyncResult]:
    """Sync the subscriptions that are due, each claimed by one process only."""
    now = now_ms()
    results = []
    for row in await store.policy_lists.subscriptions():
        if row.next_sync_at > now:
            continue
        if not await store.policy_lists.claim_due(row.id, row.next_sync_at, now + SYNC_EVERY_MS):
            continue  # another process took it
        results.append(await sync(store, gate, fetcher, row))
    return results


async def sync_forever(
    store: Store, gate: PolicyGate, fetcher: Fetcher, *, tick: float | None = None
) -> None:
    """The periodic job: due subscriptions are synced, whatever process runs it."""
    tick = tick or TICK_SECONDS
    while True:
        try:
            await sync_due(store, gate, fetcher)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("policy list sync failed")
        await asyncio.sleep(tick)


# -- drafts ------------------------------------------------------------------------------


async def list_drafts(store: Store, subscription_id: int | None = None) -> list[DraftRow]:
    return await store.policy_lists.drafts(subscription_id)


async def get_draft(store: Store, draft_id: int) -> DraftRow:
    row = await store.policy_lists.draft(draft_id)
    if row is None:
        raise NotFound(f"draft {draft_id}")
    return row


def entry_of(draft: DraftRow) -> ListEntry:
    return ListEntry(
        draft.kind,  # type: ignore[arg-type]
        draft.domain,
        draft.severity,  # type: ignore[arg-type]
        draft.reject_media,
        draft.reject_reports,
        draft.obfuscate,
        draft.public_comment,
    )


async def accept_draft(store: Store, gate: PolicyGate, draft_id: int) -> DraftRow:
    """Put a draft in force; the admin accepted it, so it is the admin's (adopted)."""
    draft = await get_draft(store, draft_id)
    sub = await store.policy_lists.subscription(draft.subscription_id)
    entry = entry_of(draft)
    await _put(store, gate, entry, None)
    await store.policy_lists.delete_draft(draft.id)
    url = sub.url if sub is not None else ""
    await _log(gate, url, entry.kind, entry, f"{_describe(entry)} from {url}, accepted by an admin")
    return draft


async def reject_draft(store: Store, draft_id: int) -> DraftRow:
    draft = await get_draft(store, draft_id)
    await store.policy_lists.delete_draft(draft.id)
    return draft
