"""Moderation use cases: approve/reject sign-ups, sanction accounts, handle reports."""

from __future__ import annotations

from fedinode.errors import Forbidden, NotFoundError, ValidationFailed
from fedinode.services.context import Ctx
from fedinode.services.surface import SideEffects
from storage import intents
from storage.models import Account, AccountAction, AccountActionUndo, User
from storage.moderation import AdminAccountRow, ReportFilter, ReportRow
from storage.paging import Page


def require_admin(user: User | None) -> User:
    if user is None or not user.admin:
        raise Forbidden("This action is not allowed")
    return user


async def account_row(ctx: Ctx, account_id: int | None) -> AdminAccountRow:
    row = None if account_id is None else await ctx.store.moderation.account(account_id)
    if row is None:
        raise NotFoundError()
    return row


async def approve(ctx: Ctx, moderator: Account, account_id: int | None) -> AdminAccountRow:
    row = await account_row(ctx, account_id)
    if row.user is None or row.user.approved:
        raise Forbidden("This account is not pending approval")
    await ctx.store.users.update(row.user.id, approved=True)
    await ctx.store.moderation.log(moderator.id, "approve", target_account_id=row.account.id)
    return await account_row(ctx, row.account.id)


async def reject(ctx: Ctx, moderator: Account, account_id: int | None) -> None:
    """A pending sign-up is refused: the user and its account are removed."""
    row = await account_row(ctx, account_id)
    if row.user is None or row.user.approved:
        raise Forbidden("This account is not pending approval")
    await ctx.store.moderation.log(moderator.id, "reject", target_account_id=row.account.id)
    await ctx.store.accounts.delete(row.account.id)


async def act(
    ctx: Ctx,
    moderator: Account,
    account_id: int | None,
    action: str | None,
    *,
    report_id: int | None = None,
    text: str = "",
) -> AdminAccountRow:
    """POST /admin/accounts/:id/action: sanction, log, and settle reports about the account."""
    try:
        kind = AccountAction(action or "")
    except ValueError:
        raise ValidationFailed("Validation failed: type is not included in the list") from None
    row = await account_row(ctx, account_id)
    target = row.account
    if target.id == moderator.id:
        raise Forbidden("You cannot moderate yourself")
    if row.user is not None and row.user.admin and kind is not AccountAction.NONE:
        raise Forbidden("Admins cannot be moderated through the API")
    if kind is AccountAction.SENSITIVE:
        await ctx.store.moderation.set_sensitized(target.id, True)
    elif kind is AccountAction.DISABLE:
        if row.user is None:
            raise ValidationFailed("Validation failed: only local accounts can be disabled")
        await ctx.store.users.update(row.user.id, disabled=True)
        await ctx.store.oauth.revoke_user_tokens(row.user.id)
    elif kind is AccountAction.SILENCE:
        await ctx.store.accounts.update(target.id, silenced=True)
    elif kind is AccountAction.SUSPEND:
        await ctx.store.accounts.update(target.id, suspended=True)
        if row.user is not None:
            await ctx.store.oauth.revoke_user_tokens(row.user.id)
    await ctx.store.moderation.log(
        moderator.id, kind, target_account_id=target.id, report_id=report_id, text=text
    )
    if report_id is not None:
        report = await ctx.store.moderation.report(report_id)
        if report is None or report.report.target_account_id != target.id:
            raise NotFoundError()
        await ctx.store.moderation.resolve(report_id, moderator.id)
    elif kind is not AccountAction.NONE:
        await ctx.store.moderation.resolve_open_reports_on(target.id, moderator.id)
    return await account_row(ctx, target.id)


async def undo(
    ctx: Ctx, moderator: Account, account_id: int | None, what: AccountActionUndo
) -> AdminAccountRow:
    """enable | unsilence | unsuspend | unsensitive."""
    row = await account_row(ctx, account_id)
    target = row.account
    if what is AccountActionUndo.ENABLE:
        if row.user is not None:
            await ctx.store.users.update(row.user.id, disabled=False)
    elif what is AccountActionUndo.UNSILENCE:
        await ctx.store.accounts.update(target.id, silenced=False)
    elif what is AccountActionUndo.UNSUSPEND:
        await ctx.store.accounts.update(target.id, suspended=False)
    else:
        await ctx.store.moderation.set_sensitized(target.id, False)
    await ctx.store.moderation.log(moderator.id, what, target_account_id=target.id)
    return await account_row(ctx, target.id)


async def delete_data(ctx: Ctx, moderator: Account, account_id: int | None) -> AdminAccountRow:
    """DELETE /admin/accounts/:id: erase a suspended account's posts and profile.

    The account itself stays, suspended, so its name is not handed out again and a remote
    account is not re-fetched as a fresh one (Mastodon reserves the username likewise).
    Local posts are deleted on the peers they went to. Refused (403) unless the account is
    suspended, and once its data is gone.
    """
    row = await account_row(ctx, account_id)
    target = row.account
    if not target.suspended or target.id == moderator.id:
        raise Forbidden("This action is not allowed")
    if any(action == "delete" for _, action, _ in await ctx.store.moderation.actions_on(target.id)):
        raise Forbidden("This action is not allowed")
    done: set[int] = set()
    while True:
        batch = await ctx.store.statuses.account_statuses(target.id, target.id, Page(limit=100))
        batch = [s for s in batch if s.id not in done]
        if not batch:
            break
        for status in batch:
            done.add(status.id)
            mentions = (await ctx.store.statuses.mentions_for([status.id])).get(status.id, [])
            mentioned = await ctx.store.accounts.get_many([m.account_id for m in mentions])
            owed = None
            if target.local:
                payload = intents.deleted_status(status, list(mentioned))
                owed = await ctx.store.intents.add(
                    intents.DELETE_STATUS, target.id, status.id, status.uri, payload=payload
                )
            if await ctx.store.statuses.delete(status.id) is None:
                if owed is not None:
                    await ctx.store.intents.done(owed)
                continue
            await SideEffects(ctx.store).status_deleted(status)
            if owed is not None:
                await ctx.federation.status_deleted(status, list(mentioned.values()))
                await ctx.store.intents.done(owed)
    await ctx.store.accounts.update(
        target.id,
        display_name="",
        note="",
        note_source="",
        fields=[],
        avatar_url="",
        header_url="",
    )
    if row.user is not None:
        await ctx.store.users.update(row.user.id, disabled=True)
        await ctx.store.oauth.revoke_user_tokens(row.user.id)
    await ctx.store.moderation.log(moderator.id, "delete", target_account_id=target.id)
    return await account_row(ctx, target.id)


async def reports(ctx: Ctx, flt: ReportFilter, page: Page) -> list[ReportRow]:
    """Reports, newest first: open ones (``resolved=False``), resolved ones, or both."""
    return await ctx.store.moderation.reports(flt, page)


async def report_row(ctx: Ctx, report_id: int | None) -> ReportRow:
    row = None if report_id is None else await ctx.store.moderation.report(report_id)
    if row is None:
        raise NotFoundError()
    return row


async def report_change(
    ctx: Ctx, moderator: Account, report_id: int | None, change: str
) -> ReportRow:
    """assign_to_self | unassign | resolve | reopen."""
    row = await report_row(ctx, report_id)
    rid = row.report.id
    if change == "assign_to_self":
        updated = await ctx.store.moderation.assign(rid, moderator.id)
    elif change == "unassign":
        updated = await ctx.store.moderation.assign(rid, None)
    elif change == "resolve":
        updated = await ctx.store.moderation.resolve(rid, moderator.id)
    elif change == "reopen":
        updated = await ctx.store.moderation.resolve(rid, None)
    else:  # pragma: no cover
        raise NotFoundError()
    await ctx.store.moderation.log(moderator.id, f"report.{change}", report_id=rid)
    if updated is None:
        raise NotFoundError()
    return updated
