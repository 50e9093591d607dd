"""Domain blocks and allows set at run time, the policy decision log, and what a suspension
severs (follows, follow requests, cached statuses of a set of domains).

Which domains a rule covers is the policy engine's decision (wildcards, ports, the most
specific rule winning); these queries take the resulting list of exact account domains.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from storage.db import Database
from storage.errors import Conflict
from storage.ids import new_id, now_ms
from storage.models import DomainAllowRow, DomainBlockRow, PolicyDecisionRow
from storage.paging import Page
from storage.rows import build, build_all, build_opt

T = TypeVar("T")
_CHUNK = 500  # domains per IN (…) list: well under SQLite's parameter limit

# What an admin sets on a domain block: every column but its identity and creation time.
BLOCK_FIELDS = tuple(
    f.name for f in fields(DomainBlockRow) if f.name not in ("id", "domain", "created_at")
)


@dataclass(frozen=True, slots=True)
class NewDecision:
    time: int
    direction: str
    peer: str
    actor: str | None
    activity_id: str | None
    activity_type: str | None
    rule: str
    action: str
    enforced: bool
    reason: str


class PolicyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def domain_blocks(self) -> list[DomainBlockRow]:
        return build_all(
            DomainBlockRow, await self._db.fetch("SELECT * FROM domain_blocks ORDER BY id")
        )

    async def domain_blocks_page(self, page: Page) -> list[DomainBlockRow]:
        return await self._page("domain_blocks", DomainBlockRow, page)

    async def domain_block_by_domain(self, domain: str) -> DomainBlockRow | None:
        return build_opt(
            DomainBlockRow,
            await self._db.fetchrow("SELECT * FROM domain_blocks WHERE domain = $1", domain),
        )

    async def _page(self, table: str, cls: type[T], page: Page) -> list[T]:
        args: list[Any] = []
        cond, order, ascending = page.clauses("id", args)
        args.append(page.limit)
        rows = build_all(
            cls,
            await self._db.fetch(
                f"SELECT * FROM {table} WHERE {cond} ORDER BY {order} LIMIT ${len(args)}", *args
            ),
        )
        if ascending:
            rows.reverse()
        return rows

    async def domain_block(self, block_id: int) -> DomainBlockRow | None:
        return build_opt(
            DomainBlockRow,
            await self._db.fetchrow("SELECT * FROM domain_blocks WHERE id = $1", block_id),
        )

    async def create_domain_block(self, domain: str, **fields: Any) -> DomainBlockRow:
        unknown = set(fields) - set(BLOCK_FIELDS)
        if unknown:
            raise ValueError(f"unknown domain block fields: {sorted(unknown)}")
        names = ["id", "domain", "created_at", *fields]
        marks = ", ".join(f"${i}" for i in range(1, len(names) + 1))
        row = await self._db.fetchrow(
            f"INSERT INTO domain_blocks ({', '.join(names)}) VALUES ({marks}) ON CONFLICT (domain) DO NOTHING RETURNING *",
            new_id(),
            domain,
            now_ms(),
            *fields.values(),
        )
        if row is None:
            raise Conflict(f"domain {domain} is already blocked")
        return build(DomainBlockRow, row)

    async def update_domain_block(self, block_id: int, **fields: Any) -> DomainBlockRow | None:
        unknown = set(fields) - set(BLOCK_FIELDS)
        if unknown:
            raise ValueError(f"unknown domain block fields: {sorted(unknown)}")
        if not fields:
            return await self.domain_block(block_id)
        sets = ", ".join(f"{k} = ${i}" for i, k in enumerate(fields, start=1))
        row = await self._db.fetchrow(
            f"UPDATE domain_blocks SET {sets} WHERE id = ${len(fields) + 1} RETURNING *",
            *fields.values(),
            block_id,
        )
        return build_opt(DomainBlockRow, row)

    async def delete_domain_block(self, block_id: int) -> DomainBlockRow | None:
        row = await self._db.fetchrow(
            "DELETE FROM domain_blocks WHERE id = $1 RETURNING *", block_id
        )
        return build_opt(DomainBlockRow, row)

    async def domain_allows(self) -> list[DomainAllowRow]:
        return build_all(
            DomainAllowRow, await self._db.fetch("SELECT * FROM domain_allows ORDER BY id")
        )

    async def domain_allows_page(self, page: Page) -> list[DomainAllowRow]:
        return await self._page("domain_allows", DomainAllowRow, page)

    async def domain_allow_by_domain(self, domain: str) -> DomainAllowRow | None:
        return build_opt(
            DomainAllowRow,
            await self._db.fetchrow("SELECT * FROM domain_allows WHERE domain = $1", domain),
        )

    async def domain_allow(self, allow_id: int) -> DomainAllowRow | None:
        return build_opt(
            DomainAllowRow,
            await self._db.fetchrow("SELECT * FROM domain_allows WHERE id = $1", allow_id),
        )

    async def create_domain_allow(self, domain: str) -> DomainAllowRow:
        row = await self._db.fetchrow(
            "INSERT INTO domain_allows (id, domain, created_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (domain) DO NOTHING RETURNING *",
            new_id(),
            domain,
            now_ms(),
        )
        if row is None:
            raise Conflict(f"domain {domain} is already allowed")
        return build(DomainAllowRow, row)

    async def delete_domain_allow(self, allow_id: int) -> DomainAllowRow | None:
        row = await self._db.fetchrow(
            "DELETE FROM domain_allows WHERE id = $1 RETURNING *", allow_id
        )
        return build_opt(DomainAllowRow, row)

    async def record_decisions(self, decisions: list[NewDecision]) -> None:
        if not decisions:
            return
        async with self._db.transaction() as tx:
            for d in decisions:
                await tx.execute(
                    "INSERT INTO policy_decisions (id, time, direction, peer, actor, activity_id, activity_type,"
                    " rule, action, enforced, reason) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
                    new_id(),
                    d.time,
                    d.direction,
                    d.peer,
                    d.actor,
                    d.activity_id,
                    d.activity_type,
                    d.rule,
                    d.action,
                    d.enforced,
                    d.reason,
                )

    async def decisions(
        self,
        page: Page,
        *,
        direction: str | None = None,
        peer: str | None = None,
        rule: str | None = None,
    ) -> list[PolicyDecisionRow]:
        args: list[Any] = []
        where = ["1=1"]
        for column, value in (("direction", direction), ("peer", peer), ("rule", rule)):
            if value:
                args.append(value)
                where.append(f"{column} = ${len(args)}")
        cond, order, ascending = page.clauses("id", args)
        args.append(page.limit)
        rows = await self._db.fetch(
            f"SELECT * FROM policy_decisions WHERE {' AND '.join(where)} AND {cond} ORDER BY {order} LIMIT ${len(args)}",
            *args,
        )
        out = build_all(PolicyDecisionRow, rows)
        if ascending:
            out.reverse()
        return out

    async def prune_decisions(self, older_than_ms: int) -> int:
        return await self._db.execute("DELETE FROM policy_decisions WHERE time < $1", older_than_ms)

    # -- what a suspension severs ---------------------------------------------------------

    async def known_domains(self) -> list[str]:
        """Every remote domain we hold accounts of."""
        rows = await self._db.fetch(
            "SELECT DISTINCT domain FROM accounts WHERE domain <> '' ORDER BY domain"
        )
        return [str(r["domain"]) for r in rows]

    async def domain_impact(self, domains: list[str]) -> tuple[int, int, int, int]:
        """(local → domain follows, domain → local follows, pending follow requests either
        way, cached statuses) for exact account domains."""
        following = followers = requests = statuses = 0
        for chunk in _chunks(domains):
            marks = _marks(len(chunk))
            following += int(
                await self._db.fetchval(
                    "SELECT COUNT(*) FROM follows f JOIN accounts a ON a.id = f.account_id"
                    " JOIN accounts t ON t.id = f.target_account_id"
                    f" WHERE a.domain = '' AND t.domain IN ({marks})",
                    *chunk,
                )
            )
            followers += int(
                await self._db.fetchval(
                    "SELECT COUNT(*) FROM follows f JOIN accounts a ON a.id = f.account_id"
                    " JOIN accounts t ON t.id = f.target_account_id"
                    f" WHERE t.domain = '' AND a.domain IN ({marks})",
                    *chunk,
                )
            )
            requests += int(
                await self._db.fetchval(
                    "SELECT COUNT(*) FROM follow_requests f JOIN accounts a ON a.id = f.account_id"
                    " JOIN accounts t ON t.id = f.target_account_id"
                    f" WHERE a.domain IN ({marks}) OR t.domain IN ({marks})",
                    *chunk,
                )
            )
            statuses += int(
                await self._db.fetchval(
                    "SELECT COUNT(*) FROM statuses s JOIN accounts a ON a.id = s.account_id"
                    f" WHERE a.domain IN ({marks})",
                    *chunk,
                )
            )
        return following, followers, requests, statuses

    async def follows_with_domains(self, domains: list[str]) -> list[tuple[int, int]]:
        """(account_id, target_account_id) of every follow with either side in domains."""
        out: list[tuple[int, int]] = []
        for chunk in _chunks(domains):
            marks = _marks(len(chunk))
            rows = await self._db.fetch(
                "SELECT f.account_id, f.target_account_id FROM follows f"
                " JOIN accounts a ON a.id = f.account_id JOIN accounts t ON t.id = f.target_account_id"
                f" WHERE a.domain IN ({marks}) OR t.domain IN ({marks})",
                *chunk,
            )
            out.extend((int(r["account_id"]), int(r["target_account_id"])) for r in rows)
        return out

    async def delete_requests_with_domains(self, domains: list[str]) -> int:
        """Drop pending follow requests either way between us and these domains."""
        deleted = 0
        for chunk in _chunks(domains):
            marks = _marks(len(chunk))
            deleted += await self._db.execute(
                "DELETE FROM follow_requests WHERE account_id IN"
                f" (SELECT id FROM accounts WHERE domain IN ({marks}))"
                " OR target_account_id IN"
                f" (SELECT id FROM accounts WHERE domain IN ({marks}))",
                *chunk,
            )
        return deleted

    async def purge_statuses(self, domains: list[str]) -> int:
        """Delete the cached statuses of these domains (children go by ON DELETE CASCADE)."""
        deleted = 0
        for chunk in _chunks(domains):
            deleted += await self._db.execute(
                "DELETE FROM statuses WHERE account_id IN"
                f" (SELECT id FROM accounts WHERE domain IN ({_marks(len(chunk))}))",
                *chunk,
            )
        return deleted


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _marks(count: int) -> str:
    return ", ".join(f"${i}" for i in range(1, count + 1))
