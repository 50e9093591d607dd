"""Moderation: the admin views of accounts and reports, account sanctions and their log."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from storage.db import Database
from storage.ids import new_id, now_ms
from storage.models import Account, AccountStatus, Report, User
from storage.paging import Page
from storage.rows import build, build_all, build_opt

_USER_COLUMNS = [f.name for f in fields(User)]
# The condition each state puts on a row of accounts ``a``, users ``u`` and moderation ``m``.
_STATUS_CONDITIONS = {
    AccountStatus.ACTIVE: "NOT a.suspended",
    AccountStatus.PENDING: "u.id IS NOT NULL AND NOT u.approved",
    AccountStatus.DISABLED: "u.id IS NOT NULL AND u.disabled",
    AccountStatus.SILENCED: "a.silenced",
    AccountStatus.SUSPENDED: "a.suspended",
    AccountStatus.SENSITIZED: "COALESCE(m.sensitized, FALSE)",
}


@dataclass(frozen=True, slots=True)
class AccountFilter:
    origin: str | None = None  # local | remote
    status: AccountStatus | None = None
    staff: bool = False
    by_domain: str | None = None
    username: str | None = None
    display_name: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class AdminAccountRow:
    account: Account
    user: User | None
    sensitized: bool


@dataclass(frozen=True, slots=True)
class ReportFilter:
    resolved: bool | None = False
    account_id: int | None = None  # the reporter
    target_account_id: int | None = None


@dataclass(frozen=True, slots=True)
class ReportRow:
    report: Report
    action_taken_by_account_id: int | None


def _like(value: str) -> str:
    return "%" + value.lower().replace("%", "").replace("_", "") + "%"


class ModerationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    _SELECT = (
        "SELECT a.*, COALESCE(m.sensitized, FALSE) AS m_sensitized, "
        + ", ".join(f"u.{c} AS u_{c}" for c in _USER_COLUMNS)
        + " FROM accounts a LEFT JOIN users u ON u.account_id = a.id"
        " LEFT JOIN account_moderation m ON m.account_id = a.id"
    )

    def _row(self, r: Any) -> AdminAccountRow:
        user = None
        if r["u_id"] is not None:
            user = build(User, {c: r[f"u_{c}"] for c in _USER_COLUMNS})
        return AdminAccountRow(build(Account, r), user, bool(r["m_sensitized"]))

    async def account(self, account_id: int) -> AdminAccountRow | None:
        r = await self._db.fetchrow(self._SELECT + " WHERE a.id = $1", account_id)
        return None if r is None else self._row(r)

    async def accounts(self, flt: AccountFilter, page: Page) -> list[AdminAccountRow]:
        args: list[Any] = []
        # Local accounts without a user are the instance's own actor: not moderatable.
        where: list[str] = ["(a.domain <> '' OR u.id IS NOT NULL)"]
        if flt.origin == "local":
            where.append("a.domain = ''")
        elif flt.origin == "remote":
            where.append("a.domain <> ''")
        if flt.status is not None:
            where.append(_STATUS_CONDITIONS[flt.status])
        if flt.staff:
            where.append("u.id IS NOT NULL AND u.admin")
        if flt.by_domain:
            args.append(flt.by_domain.lower())
            where.append(f"a.domain = ${len(args)}")
        if flt.username:
            args.append(_like(flt.username))
            where.append(f"lower(a.username) LIKE ${len(args)}")
        if flt.display_name:
            args.append(_like(flt.display_name))
            where.append(f"lower(a.display_name) LIKE ${len(args)}")
        if flt.email:
            args.append(_like(flt.email))
            where.append(f"lower(u.email) LIKE ${len(args)}")
        cond, order, ascending = page.clauses("a.id", args)
        where.append(cond)
        args.append(page.limit)
        rows = await self._db.fetch(
            self._SELECT + f" WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ${len(args)}",
            *args,
        )
        found = [self._row(r) for r in rows]
        if ascending:
            found.reverse()
        return found

    async def set_sensitized(self, account_id: int, sensitized: bool) -> None:
        await self._db.execute(
            "INSERT INTO account_moderation (account_id, sensitized, updated_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (account_id) DO UPDATE SET sensitized = excluded.sensitized,"
            " updated_at = excluded.updated_at",
            account_id,
            sensitized,
            now_ms(),
        )

    async def sensitized(self, account_ids: list[int]) -> set[int]:
        if not account_ids:
            return set()
        marks = ", ".join(f"${i}" for i in range(1, len(account_ids) + 1))
        rows = await self._db.fetch(
            f"SELECT account_id FROM account_moderation WHERE sensitized AND account_id IN ({marks})",
            *account_ids,
        )
        return {int(r["account_id"]) for r in rows}

    async def log(
        self,
        moderator_id: int,
        action: str,
        *,
        target_account_id: int | None = None,
        report_id: int | None = None,
        text: str = "",
    ) -> None:
        await self._db.execute(
            "INSERT INTO admin_actions (id, account_id, target_account_id, report_id, action, text, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            new_id(),
            moderator_id,
            target_account_id,
            report_id,
            action,
            text,
            now_ms(),
        )

    async def actions_on(self, target_account_id: int) -> list[tuple[int, str, str]]:
        """(moderator account id, action, text), oldest first."""
        rows = await self._db.fetch(
            "SELECT account_id, action, text FROM admin_actions WHERE target_account_id = $1 ORDER BY id",
            target_account_id,
        )
        return [(int(r["account_id"]), str(r["action"]), str(r["text"])) for r in rows]

    # -- reports ---------------------------------------------------------------------------

    async def report(self, report_id: int) -> ReportRow | None:
        r = await self._db.fetchrow("SELECT * FROM reports WHERE id = $1", report_id)
        if r is None:
            return None
        return ReportRow(build(Report, r), r["action_taken_by_account_id"])

    async def reports(self, flt: ReportFilter, page: Page) -> list[ReportRow]:
        args: list[Any] = []
        where: list[str] = []
        if flt.resolved is True:
            where.append("r.action_taken_at IS NOT NULL")
        elif flt.resolved is False:
            where.append("r.action_taken_at IS NULL")
        if flt.account_id is not None:
            args.append(flt.account_id)
            where.append(f"r.account_id = ${len(args)}")
        if flt.target_account_id is not None:
            args.append(flt.target_account_id)
            where.append(f"r.target_account_id = ${len(args)}")
        cond, order, ascending = page.clauses("r.id", args)
        where.append(cond)
        args.append(page.limit)
        rows = await self._db.fetch(
            f"SELECT r.* FROM reports r WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ${len(args)}",
            *args,
        )
        found = [ReportRow(build(Report, r), r["action_taken_by_account_id"]) for r in rows]
        if ascending:
            found.reverse()
        return found

    async def assign(self, report_id: int, account_id: int | None) -> ReportRow | None:
        await self._db.execute(
            "UPDATE reports SET assigned_account_id = $1, updated_at = $2 WHERE id = $3",
            account_id,
            now_ms(),
            report_id,
        )
        return await self.report(report_id)

    async def resolve(self, report_id: int, by_account_id: int | None) -> ReportRow | None:
        """Mark handled (``by_account_id``) or reopen it (None)."""
        now = now_ms()
        await self._db.execute(
            "UPDATE reports SET action_taken_at = $1, action_taken_by_account_id = $2, updated_at = $3"
            " WHERE id = $4",
            None if by_account_id is None else now,
            by_account_id,
            now,
            report_id,
        )
        return await self.report(report_id)

    async def resolve_open_reports_on(self, target_account_id: int, by_account_id: int) -> int:
        """An account action settles every open report about the account."""
        now = now_ms()
        return await self._db.execute(
            "UPDATE reports SET action_taken_at = $1, action_taken_by_account_id = $2, updated_at = $1"
            " WHERE target_account_id = $3 AND action_taken_at IS NULL",
            now,
            by_account_id,
            target_account_id,
        )

    async def reports_about(self, target_account_id: int) -> list[Report]:
        rows = await self._db.fetch(
            "SELECT * FROM reports WHERE target_account_id = $1 ORDER BY id", target_account_id
        )
        return build_all(Report, rows)

    async def user(self, account_id: int) -> User | None:
        return build_opt(
            User, await self._db.fetchrow("SELECT * FROM users WHERE account_id = $1", account_id)
        )
