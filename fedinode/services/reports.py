"""Reports by local users: stored, admins notified, forwarded to the remote server on request."""

from __future__ import annotations

from collections.abc import Sequence

from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services.context import Ctx
from fedinode.services.surface import SideEffects
from storage import intents
from storage.ids import new_id
from storage.models import Account, Report

CATEGORIES = ("spam", "legal", "violation", "other")
COMMENT_LIMIT = 1000


async def create_report(
    ctx: Ctx,
    reporter: Account,
    target_id: int | None,
    *,
    status_ids: Sequence[int] = (),
    comment: str = "",
    category: str | None = None,
    rule_ids: Sequence[int] = (),
    forward: bool = False,
) -> tuple[Report, Account]:
    target = None if target_id is None else await ctx.store.accounts.get(target_id)
    if target is None or target.id == reporter.id:
        raise NotFoundError()
    if len(comment) > COMMENT_LIMIT:
        raise ValidationFailed(
            f"Validation failed: Comment is too long (maximum is {COMMENT_LIMIT} characters)"
        )
    if category is not None and category not in CATEGORIES:
        raise ValidationFailed("Validation failed: Category is not included in the list")
    if rule_ids:
        known = range(1, len(ctx.config.instance.rules) + 1)
        if any(r not in known for r in rule_ids):
            raise ValidationFailed("Validation failed: Rule ids do not match the instance rules")
        category = category or "violation"
    statuses = await ctx.store.statuses.get_many(list(status_ids))
    for sid in status_ids:
        s = statuses.get(sid)
        if (
            s is None
            or s.account_id != target.id
            or not await ctx.store.statuses.visible_to(s, reporter.id)
        ):
            raise ValidationFailed(
                "Validation failed: Statuses must belong to the reported account"
            )
    forward = forward and not target.local
    report_id = new_id()
    owed = None
    if forward:
        owed = await ctx.store.intents.add(intents.REPORT, reporter.id, report_id, None)
    report = await ctx.store.reports.create(
        reporter.id,
        target.id,
        status_ids=list(dict.fromkeys(status_ids)),
        comment=comment,
        category=category or "other",
        rule_ids=list(rule_ids),
        forwarded=forward,
        report_id=report_id,
    )
    await SideEffects(ctx.store).reported(report, reporter)
    if owed is not None:
        await ctx.federation.reported(report)
        await ctx.store.intents.done(owed)
    return report, target
