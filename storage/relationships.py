"""Follows, follow requests, blocks, mutes and private notes between accounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import Database, batch_memo, placeholders
from storage.ids import new_id, now_ms
from storage.models import Account, Block, Follow, FollowRequest, Mute
from storage.paging import Page
from storage.rows import build, build_all, build_opt

_FOLLOWERS_MEMO = "local_followers"  # the key's first part in ``batch_memo``

# How many of an account's newest statuses a new local follower gets in its home feed.
FEED_BACKFILL = 400


_FOLLOW_COLUMNS = (
    "id", "account_id", "target_account_id", "uri", "show_reblogs", "notify", "languages", "created_at",
)  # fmt: skip
_REQUEST_COLUMNS = (
    "id", "account_id", "target_account_id", "uri", "show_reblogs", "notify", "created_at",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Relationship:
    following: Follow | None
    followed_by: bool
    requested: bool
    requested_by: bool
    blocking: bool
    blocked_by: bool
    muting: Mute | None
    note: str
    domain_blocking: bool = False  # the viewer blocks the account's domain


class RelationshipStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- follows --------------------------------------------------------------------------

    async def follow(
        self,
        account_id: int,
        target_id: int,
        *,
        uri: str | None = None,
        show_reblogs: bool = True,
        notify: bool = False,
    ) -> Follow:
        """Create (or update) a follow; counters move only when a new one is made."""
        async with self._db.transaction() as tx:
            row = await tx.fetchrow(
                "INSERT INTO follows (id, account_id, target_account_id, uri, show_reblogs, notify, created_at)"
                " VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (account_id, target_account_id) DO NOTHING RETURNING *",
                new_id(),
                account_id,
                target_id,
                uri,
                show_reblogs,
                notify,
                now_ms(),
            )
            if row is None:
                row = await tx.fetchrow(
                    "UPDATE follows SET show_reblogs = $1, notify = $2, uri = COALESCE($3, uri)"
                    " WHERE account_id = $4 AND target_account_id = $5 RETURNING *",
                    show_reblogs,
                    notify,
                    uri,
                    account_id,
                    target_id,
                )
            else:
                await tx.execute(
                    "UPDATE accounts SET following_count = following_count + 1, rev = rev + 1 WHERE id = $1",
                    account_id,
                )
                # A local follower's home feed gets the followee's recent statuses.
                await tx.execute(
                    "INSERT INTO home_feed (account_id, status_id) SELECT CAST($1 AS BIGINT), x.id"
                    " FROM (SELECT s.id FROM statuses s WHERE s.account_id = $2"
                    f"  ORDER BY s.id DESC LIMIT {FEED_BACKFILL}) x"
                    " WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.id = $1 AND a.domain = '')"
                    " ON CONFLICT DO NOTHING",
                    account_id,
                    target_id,
                )
                await tx.execute(
                    "UPDATE accounts SET followers_count = followers_count + 1, rev = rev + 1 WHERE id = $1",
                    target_id,
                )
            await tx.execute(
                "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2",
                account_id,
                target_id,
            )
            assert row is not None
            return build(Follow, row)

    async def unfollow(self, account_id: int, target_id: int) -> Follow | None:
        async with self._db.transaction() as tx:
            row = await tx.fetchrow(
                "DELETE FROM follows WHERE account_id = $1 AND target_account_id = $2 RETURNING *",
                account_id,
                target_id,
            )
            await tx.execute(
                "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2",
                account_id,
                target_id,
            )
            if row is not None:
                # Lists hold followed accounts only (as in Mastodon), so the follow's end is
                # the membership's end, whichever path ends it: unfollow, block either way,
                # removal from followers, a remote Block or Reject, a domain being severed.
                await tx.execute(
                    "DELETE FROM list_accounts WHERE account_id = $2"
                    " AND list_id IN (SELECT id FROM lists WHERE account_id = $1)",
                    account_id,
                    target_id,
                )
                await tx.execute(
                    "UPDATE accounts SET following_count = following_count - 1, rev = rev + 1"
                    " WHERE id = $1 AND following_count > 0",
                    account_id,
                )
                await tx.execute(
                    "UPDATE accounts SET followers_count = followers_count - 1, rev = rev + 1"
                    " WHERE id = $1 AND followers_count > 0",
                    target_id,
                )
        return build_opt(Follow, row)

    async def get_follow(self, account_id: int, target_id: int) -> Follow | None:
        row = await self._db.fetchrow(
            "SELECT * FROM follows WHERE account_id = $1 AND target_account_id = $2",
            account_id,
            target_id,
        )
        return build_opt(Follow, row)

    async def follow_by_uri(
        self, uri: str, *, account_id: int | None = None, target_id: int | None = None
    ) -> Follow | None:
        """The follow whose Follow activity had this id; ``account_id`` / ``target_id``
        narrow it to one side (a peer may only name its own activities)."""
        return build_opt(Follow, await self._by_uri("follows", uri, account_id, target_id))

    async def set_follow_uri(self, account_id: int, target_id: int, uri: str) -> None:
        """A repeated Follow names the existing follow anew: a later Undo names the newest."""
        await self._db.execute(
            "UPDATE follows SET uri = $1 WHERE account_id = $2 AND target_account_id = $3",
            uri,
            account_id,
            target_id,
        )

    async def _by_uri(
        self, table: str, uri: str, account_id: int | None, target_id: int | None
    ) -> Any:
        where: list[str] = ["uri = $1"]
        args: list[Any] = [uri]
        for column, value in (("account_id", account_id), ("target_account_id", target_id)):
            if value is not None:
                args.append(value)
                where.append(f"{column} = ${len(args)}")
        return await self._db.fetchrow(
            f"SELECT * FROM {table} WHERE {' AND '.join(where)} ORDER BY id LIMIT 1", *args
        )

    async def followers(self, account_id: int, page: Page) -> list[tuple[Follow, Account]]:
        return await self._follow_page("target_account_id", "account_id", account_id, page)

    async def following(self, account_id: int, page: Page) -> list[tuple[Follow, Account]]:
        return await self._follow_page("account_id", "target_account_id", account_id, page)

    async def _follow_page(
        self, own: str, other: str, account_id: int, page: Page
    ) -> list[tuple[Follow, Account]]:
        rows = await self._paired_page(
            "follows", _FOLLOW_COLUMNS, other, f"x.{own} = $1", [account_id], page
        )
        return [(build(Follow, x), a) for x, a in rows]

    async def follower_inboxes(self, account_id: int) -> list[str]:
        """Distinct delivery inboxes of remote followers (shared inbox when they have one)."""
        rows = await self._db.fetch(
            "SELECT DISTINCT CASE WHEN a.shared_inbox_url <> '' THEN a.shared_inbox_url ELSE a.inbox_url END AS inbox"
            " FROM follows f JOIN accounts a ON a.id = f.account_id"
            " WHERE f.target_account_id = $1 AND a.domain <> '' AND NOT a.suspended",
            account_id,
        )
        return [r["inbox"] for r in rows if r["inbox"]]

    async def local_follower_ids(self, account_id: int, *, notified: bool = False) -> list[int]:
        """The account's local followers; ``notified``: only those who asked to be told of
        its posts (the bell). One query; those ``notified``, in a batch, once for a run of
        its posts (its memo: an inbox batch empties it at any activity but a Create)."""
        memo = batch_memo(self._db) if notified else None
        key = (_FOLLOWERS_MEMO, account_id)
        if memo is not None and isinstance(known := memo.get(key), list):
            return list(known)
        rows = await self._db.fetch(
            "SELECT f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id"
            f" WHERE f.target_account_id = $1 AND a.domain = ''{' AND f.notify' if notified else ''}",
            account_id,
        )
        ids = [int(r["account_id"]) for r in rows]
        if memo is not None:
            memo[key] = list(ids)
        return ids

    async def from_domain(
        self, account_id: int, domain: str
    ) -> tuple[list[Account], list[Account]]:
        """(followers, follow requesters) of the account on ``domain``."""
        found: list[list[Account]] = []
        for table in ("follows", "follow_requests"):
            rows = await self._db.fetch(
                f"SELECT a.* FROM {table} x JOIN accounts a ON a.id = x.account_id"
                " WHERE x.target_account_id = $1 AND a.domain = $2 ORDER BY x.id",
                account_id,
                domain,
            )
            found.append(build_all(Account, rows))
        return found[0], found[1]

    async def blocks_domain_of(self, account_id: int, other_id: int) -> bool:
        """Whether the account blocks the domain of ``other_id`` (a user's domain block)."""
        return bool(
            await self._db.fetchval(
                "SELECT 1 FROM account_domain_blocks d JOIN accounts a ON a.domain = d.domain"
                " WHERE d.account_id = $1 AND a.id = $2",
                account_id,
                other_id,
            )
        )

    async def has_local_followers(self, account_id: int) -> bool:
        return bool(
            await self._db.fetchval(
                "SELECT 1 FROM follows f JOIN accounts a ON a.id = f.account_id"
                " WHERE f.target_account_id = $1 AND a.domain = '' LIMIT 1",
                account_id,
            )
        )

    async def count_with_domain(self, domain: str) -> tuple[int, int]:
        """(local accounts following the domain, accounts of the domain following locals)."""
        following = await self._db.fetchval(
            "SELECT COUNT(*) FROM follows f JOIN accounts t ON t.id = f.target_account_id"
            " JOIN accounts a ON a.id = f.account_id WHERE a.domain = '' AND (t.domain = $1 OR t.domain LIKE $2)",
            domain,
            "%." + domain,
        )
        followers = await self._db.fetchval(
            "SELECT COUNT(*) FROM follows f JOIN accounts t ON t.id = f.target_account_id"
            " JOIN accounts a ON a.id = f.account_id WHERE t.domain = '' AND (a.domain = $1 OR a.domain LIKE $2)",
            domain,
            "%." + domain,
        )
        return int(following), int(followers)

    async def sever_domain(self, domain: str) -> int:
        """Remove every follow between local accounts and the domain (and its subdomains)."""
        rows = await self._db.fetch(
            "SELECT f.account_id, f.target_account_id FROM follows f"
            " JOIN accounts a ON a.id = f.account_id JOIN accounts t ON t.id = f.target_account_id"
            " WHERE (a.domain = $1 OR a.domain LIKE $2 OR t.domain = $1 OR t.domain LIKE $2)",
            domain,
            "%." + domain,
        )
        for r in rows:
            await self.unfollow(int(r["account_id"]), int(r["target_account_id"]))
        return len(rows)

    # -- follow requests ------------------------------------------------------------------

    async def request(
        self,
        account_id: int,
        target_id: int,
        *,
        uri: str | None = None,
        show_reblogs: bool = True,
        notify: bool = False,
    ) -> FollowRequest:
        row = await self._db.fetchrow(
            "INSERT INTO follow_requests (id, account_id, target_account_id, uri, show_reblogs, notify, created_at)"
            " VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (account_id, target_account_id)"
            " DO UPDATE SET uri = COALESCE(excluded.uri, follow_requests.uri) RETURNING *",
            new_id(),
            account_id,
            target_id,
            uri,
            show_reblogs,
            notify,
            now_ms(),
        )
        assert row is not None
        return build(FollowRequest, row)

    async def get_request(self, account_id: int, target_id: int) -> FollowRequest | None:
        row = await self._db.fetchrow(
            "SELECT * FROM follow_requests WHERE account_id = $1 AND target_account_id = $2",
            account_id,
            target_id,
        )
        return build_opt(FollowRequest, row)

    async def request_by_uri(
        self, uri: str, *, account_id: int | None = None, target_id: int | None = None
    ) -> FollowRequest | None:
        row = await self._by_uri("follow_requests", uri, account_id, target_id)
        return build_opt(FollowRequest, row)

    async def delete_request(self, account_id: int, target_id: int) -> FollowRequest | None:
        row = await self._db.fetchrow(
            "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2 RETURNING *",
            account_id,
            target_id,
        )
        return build_opt(FollowRequest, row)

    async def requests_for(self, target_id: int, page: Page) -> list[tuple[FollowRequest, Account]]:
        rows = await self._paired_page(
            "follow_requests", _REQUEST_COLUMNS, "account_id", "x.target_account_id = $1",
            [target_id], page,
        )  # fmt: skip
        return [(build(FollowRequest, x), a) for x, a in rows]

    # -- blocks and mutes -----------------------------------------------------------------

    async def block(self, account_id: int, target_id: int, *, uri: str | None = None) -> Block:
        """Block severs follows both ways, as Mastodon does."""
        await self.unfollow(account_id, target_id)
        await self.unfollow(target_id, account_id)
        row = await self._db.fetchrow(
            "INSERT INTO blocks (id, account_id, target_account_id, uri, created_at) VALUES ($1,$2,$3,$4,$5)"
            " ON CONFLICT (account_id, target_account_id) DO UPDATE SET uri = COALESCE(excluded.uri, blocks.uri)"
            " RETURNING *",
            new_id(),
            account_id,
            target_id,
            uri,
            now_ms(),
        )
        assert row is not None
        return build(Block, row)

    async def unblock(self, account_id: int, target_id: int) -> Block | None:
        row = await self._db.fetchrow(
            "DELETE FROM blocks WHERE account_id = $1 AND target_account_id = $2 RETURNING *",
            account_id,
            target_id,
        )
        return build_opt(Block, row)

    async def get_block(self, account_id: int, target_id: int) -> Block | None:
        row = await self._db.fetchrow(
            "SELECT * FROM blocks WHERE account_id = $1 AND target_account_id = $2",
            account_id,
            target_id,
        )
        return build_opt(Block, row)

    async def block_by_uri(self, uri: str, *, account_id: int | None = None) -> Block | None:
        """The block whose Block activity had this id (of ``account_id`` only, when given)."""
        return build_opt(Block, await self._by_uri("blocks", uri, account_id, None))

    async def is_blocked_either_way(self, a: int, b: int) -> bool:
        return bool(
            await self._db.fetchval(
                "SELECT 1 FROM blocks WHERE (account_id = $1 AND target_account_id = $2)"
                " OR (account_id = $2 AND target_account_id = $1) LIMIT 1",
                a,
                b,
            )
        )

    async def mute(
        self,
        account_id: int,
        target_id: int,
        *,
        notifications: bool = True,
        expires_at: int | None = None,
    ) -> Mute:
        row = await self._db.fetchrow(
            "INSERT INTO mutes (id, account_id, target_account_id, hide_notifications, expires_at, created_at)"
            " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (account_id, target_account_id) DO UPDATE SET"
            " hide_notifications = excluded.hide_notifications, expires_at = excluded.expires_at RETURNING *",
            new_id(),
            account_id,
            target_id,
            notifications,
            expires_at,
            now_ms(),
        )
        assert row is not None
        return build(Mute, row)

    async def unmute(self, account_id: int, target_id: int) -> None:
        await self._db.execute(
            "DELETE FROM mutes WHERE account_id = $1 AND target_account_id = $2",
            account_id,
            target_id,
        )

    async def blocked_accounts(self, account_id: int, page: Page) -> list[tuple[int, Account]]:
        return await self._target_page("blocks", account_id, page)

    async def muted_accounts(self, account_id: int, page: Page) -> list[tuple[int, Account]]:
        return await self._target_page(
            "mutes",
            account_id,
            page,
            extra=" AND (x.expires_at IS NULL OR x.expires_at > $2)",
            now=True,
        )

    async def _target_page(
        self, table: str, account_id: int, page: Page, extra: str = "", now: bool = False
    ) -> list[tuple[int, Account]]:
        args: list[Any] = [account_id, now_ms()] if now else [account_id]
        rows = await self._paired_page(
            table, ("id",), "target_account_id", f"x.account_id = $1{extra}", args, page
        )
        return [(int(x["id"]), a) for x, a in rows]

    async def _paired_page(
        self,
        table: str,
        columns: tuple[str, ...],
        account_column: str,
        where: str,
        args: list[Any],
        page: Page,
    ) -> list[tuple[dict[str, Any], Account]]:
        """A page of ``table`` rows (paged by their id) each with the account it points at:
        the row's ``columns`` (as a dict) and the account, in one query."""
        cond, order, ascending = page.clauses("x.id", args)
        args.append(page.limit)
        picked = ", ".join(f"x.{c} AS x_{c}" for c in columns)
        rows = await self._db.fetch(
            f"SELECT {picked}, a.* FROM {table} x JOIN accounts a ON a.id = x.{account_column}"
            f" WHERE {where} AND {cond} ORDER BY {order} LIMIT ${len(args)}",
            *args,
        )
        out = [({c: r[f"x_{c}"] for c in columns}, _account(r)) for r in rows]
        if ascending:
            out.reverse()
        return out

    async def hidden_authors(self, viewer_id: int, account_ids: Sequence[int]) -> set[int]:
        """Which of the accounts the viewer blocks, is blocked by, or mutes (unexpired)."""
        return (await self._hidden(viewer_id, account_ids, domains=False))[0]

    async def hidden_authors_and_domains(
        self, viewer_id: int, account_ids: Sequence[int]
    ) -> tuple[set[int], set[int]]:
        """``hidden_authors``, and which of the accounts are of a domain the viewer blocks,
        in one query."""
        return await self._hidden(viewer_id, account_ids, domains=True)

    async def _hidden(
        self, viewer_id: int, account_ids: Sequence[int], *, domains: bool
    ) -> tuple[set[int], set[int]]:
        ids = list(dict.fromkeys(account_ids))
        if not ids:
            return set(), set()
        m = placeholders(3, len(ids))
        of_domain = (
            f" UNION SELECT 'd', a.id FROM accounts a JOIN account_domain_blocks d"
            f" ON d.domain = a.domain WHERE d.account_id = $1 AND a.id IN ({m})"
            if domains
            else ""
        )
        rows = await self._db.fetch(
            f"SELECT 'h' AS k, target_account_id AS aid FROM blocks WHERE account_id = $1 AND target_account_id IN ({m})"
            f" UNION SELECT 'h', account_id FROM blocks WHERE target_account_id = $1 AND account_id IN ({m})"
            f" UNION SELECT 'h', target_account_id FROM mutes WHERE account_id = $1 AND target_account_id IN ({m})"
            f" AND (expires_at IS NULL OR expires_at > $2){of_domain}",
            viewer_id,
            now_ms(),
            *ids,
        )
        found: dict[str, set[int]] = {"h": set(), "d": set()}
        for r in rows:
            found[str(r["k"])].add(int(r["aid"]))
        return found["h"], found["d"]

    async def follows_of(self, viewer_id: int, account_ids: Sequence[int]) -> set[int]:
        """Which of the accounts the viewer follows."""
        ids = list(dict.fromkeys(account_ids))
        if not ids:
            return set()
        rows = await self._db.fetch(
            f"SELECT target_account_id FROM follows WHERE account_id = $1 AND target_account_id IN ({placeholders(2, len(ids))})",
            viewer_id,
            *ids,
        )
        return {int(r["target_account_id"]) for r in rows}

    async def relationships(
        self, account_id: int, target_ids: Sequence[int]
    ) -> dict[int, Relationship]:
        """Relationships with many accounts in seven queries, whatever their number."""
        ids = list(dict.fromkeys(target_ids))
        if not ids:
            return {}
        m = placeholders(2, len(ids))
        following = {
            f.target_account_id: f
            for f in build_all(
                Follow,
                await self._db.fetch(
                    f"SELECT * FROM follows WHERE account_id = $1 AND target_account_id IN ({m})",
                    account_id,
                    *ids,
                ),
            )
        }
        followed_by = {
            int(r["account_id"])
            for r in await self._db.fetch(
                f"SELECT account_id FROM follows WHERE target_account_id = $1 AND account_id IN ({m})",
                account_id,
                *ids,
            )
        }
        req_rows = await self._db.fetch(
            f"SELECT account_id, target_account_id FROM follow_requests WHERE (account_id = $1 AND target_account_id IN ({m}))"
            f" OR (target_account_id = $1 AND account_id IN ({m}))",
            account_id,
            *ids,
        )
        requested = {
            int(r["target_account_id"]) for r in req_rows if int(r["account_id"]) == account_id
        }
        requested_by = {
            int(r["account_id"]) for r in req_rows if int(r["target_account_id"]) == account_id
        }
        block_rows = await self._db.fetch(
            f"SELECT account_id, target_account_id FROM blocks WHERE (account_id = $1 AND target_account_id IN ({m}))"
            f" OR (target_account_id = $1 AND account_id IN ({m}))",
            account_id,
            *ids,
        )
        blocking = {
            int(r["target_account_id"]) for r in block_rows if int(r["account_id"]) == account_id
        }
        blocked_by = {
            int(r["account_id"]) for r in block_rows if int(r["target_account_id"]) == account_id
        }
        mutes = {
            mu.target_account_id: mu
            for mu in build_all(
                Mute,
                await self._db.fetch(
                    f"SELECT * FROM mutes WHERE account_id = $1 AND target_account_id IN ({m})"
                    f" AND (expires_at IS NULL OR expires_at > ${len(ids) + 2})",
                    account_id,
                    *ids,
                    now_ms(),
                ),
            )
        }
        notes = {
            int(r["target_account_id"]): str(r["comment"])
            for r in await self._db.fetch(
                f"SELECT target_account_id, comment FROM account_notes WHERE account_id = $1 AND target_account_id IN ({m})",
                account_id,
                *ids,
            )
        }
        domain_blocking = {
            int(r["id"])
            for r in await self._db.fetch(
                "SELECT a.id FROM accounts a JOIN account_domain_blocks d"
                f" ON d.account_id = $1 AND d.domain = a.domain WHERE a.id IN ({m})",
                account_id,
                *ids,
            )
        }
        return {
            t: Relationship(
                following=following.get(t),
                followed_by=t in followed_by,
                requested=t in requested,
                requested_by=t in requested_by,
                blocking=t in blocking,
                blocked_by=t in blocked_by,
                muting=mutes.get(t),
                note=notes.get(t, ""),
                domain_blocking=t in domain_blocking,
            )
            for t in ids
        }

    async def familiar_followers(
        self, viewer_id: int, account_id: int, limit: int = 10
    ) -> list[Account]:
        """Accounts the viewer follows that follow ``account_id``."""
        rows = await self._db.fetch(
            "SELECT a.* FROM follows f1 JOIN follows f2 ON f2.account_id = f1.target_account_id"
            " JOIN accounts a ON a.id = f1.target_account_id"
            " WHERE f1.account_id = $1 AND f2.target_account_id = $2 AND NOT a.suspended"
            " ORDER BY f2.id DESC LIMIT $3",
            viewer_id,
            account_id,
            limit,
        )
        return build_all(Account, rows)

    # -- notes ----------------------------------------------------------------------------

    async def set_note(self, account_id: int, target_id: int, comment: str) -> None:
        if comment:
            await self._db.execute(
                "INSERT INTO account_notes (account_id, target_account_id, comment, updated_at) VALUES ($1,$2,$3,$4)"
                " ON CONFLICT (account_id, target_account_id) DO UPDATE SET comment = excluded.comment,"
                " updated_at = excluded.updated_at",
                account_id,
                target_id,
                comment,
                now_ms(),
            )
        else:
            await self._db.execute(
                "DELETE FROM account_notes WHERE account_id = $1 AND target_account_id = $2",
                account_id,
                target_id,
            )

    async def remove_follower(self, account_id: int, follower_id: int) -> Follow | None:
        return await self.unfollow(follower_id, account_id)


def _account(row: Any) -> Account:
    return build(Account, row)
