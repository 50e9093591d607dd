"""Polls: votes (local and remote, one counting path), the viewer's choices, and endings:
which polls have closed and not yet been announced to their voters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage import effects
from storage.db import Connection, Database, placeholders
from storage.errors import Conflict, NotFound
from storage.ids import new_id, now_ms
from storage.models import Account, Notification, Poll
from storage.rows import build, build_all, build_opt, dumps


@dataclass(frozen=True, slots=True)
class EndedPoll:
    poll_id: int
    status_id: int
    author_id: int
    author_local: bool
    notifications: list[Notification]


class PollStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, poll_id: int) -> Poll | None:
        return build_opt(
            Poll, await self._db.fetchrow("SELECT * FROM polls WHERE id = $1", poll_id)
        )

    async def votes_of(self, account_id: int, poll_ids: Sequence[int]) -> dict[int, list[int]]:
        """The options each of the polls the account chose, in option order."""
        ids = list(dict.fromkeys(poll_ids))
        if not ids:
            return {}
        rows = await self._db.fetch(
            "SELECT poll_id, choice FROM poll_votes WHERE account_id = $1"
            f" AND poll_id IN ({placeholders(2, len(ids))}) ORDER BY choice",
            account_id,
            *ids,
        )
        out: dict[int, list[int]] = {}
        for r in rows:
            out.setdefault(int(r["poll_id"]), []).append(int(r["choice"]))
        return out

    async def vote(self, poll_id: int, account_id: int, choices: Sequence[int]) -> Poll:
        """Record a local vote and move the counts; Conflict when the account already voted."""
        async with self._db.transaction() as tx:
            poll = await _locked(tx, poll_id)
            if poll is None:
                raise NotFound("poll")
            if await _chosen(tx, poll_id, account_id):
                raise Conflict("You have already voted on this poll")
            return await _count(tx, poll, account_id, list(dict.fromkeys(choices)), new_voter=True)

    async def record_remote_vote(self, poll_id: int, account_id: int, choice: int) -> bool:
        """Count one remote vote (a Note naming one option). False when it changes nothing:
        the account already chose that option, or already voted on a single-choice poll."""
        async with self._db.transaction() as tx:
            poll = await _locked(tx, poll_id)
            if poll is None:
                return False
            if not 0 <= choice < len(poll.options):
                return False
            chosen = await _chosen(tx, poll_id, account_id)
            if choice in chosen or (chosen and not poll.multiple):
                return False
            await _count(tx, poll, account_id, [choice], new_voter=not chosen)
            return True

    async def take_remote_counts(
        self, status_id: int, votes: Sequence[int], voters_count: int
    ) -> None:
        """Take a remote poll's current totals (an Update that changed nothing else)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE polls SET votes = $1, voters_count = $2 WHERE status_id = $3",
                dumps(list(votes)),
                voters_count,
                status_id,
            )
            # The poll renders inside its status: a new revision retires cached renderings.
            await tx.execute("UPDATE statuses SET rev = rev + 1 WHERE id = $1", status_id)

    async def remote_audience(self, poll_id: int, status_id: int) -> list[Account]:
        """Remote accounts that voted on the poll, reblogged its status or are mentioned in
        it: with the author's followers, who hears of the poll's new counts."""
        rows = await self._db.fetch(
            "SELECT a.* FROM accounts a WHERE a.domain <> '' AND NOT a.suspended AND a.id IN ("
            " SELECT account_id FROM poll_votes WHERE poll_id = $1"
            " UNION SELECT account_id FROM statuses WHERE reblog_of_id = $2"
            " UNION SELECT account_id FROM mentions WHERE status_id = $2) ORDER BY a.id",
            poll_id,
            status_id,
        )
        return build_all(Account, rows)

    async def next_due(self) -> int | None:
        """When the next unannounced poll closes (ms), or None when none is waiting."""
        value = await self._db.fetchval(
            "SELECT MIN(expires_at) FROM polls WHERE NOT notified AND expires_at IS NOT NULL"
        )
        return int(value) if value is not None else None

    async def finish_due(self, now: int, *, limit: int = 50) -> list[EndedPoll]:
        """Announce polls closed by ``now``: mark them and create "poll" notifications for
        local voters and, on local polls, the author, in one transaction (so a crash
        announces nothing twice and loses nothing). Concurrent workers claim disjoint polls."""
        async with self._db.transaction() as tx:
            claimed = await tx.fetch(
                "UPDATE polls SET notified = TRUE WHERE NOT notified AND id IN ("
                " SELECT id FROM polls WHERE NOT notified AND expires_at IS NOT NULL"
                " AND expires_at <= $1 ORDER BY expires_at LIMIT $2) RETURNING id, status_id",
                now,
                limit,
            )
            ended = []
            for row in claimed:
                found = await self._finish(tx, int(row["id"]), int(row["status_id"]), now)
                if found is not None:
                    ended.append(found)
            return ended

    async def _finish(
        self, tx: Connection, poll_id: int, status_id: int, now: int
    ) -> EndedPoll | None:
        author = await tx.fetchrow(
            "SELECT a.id, a.domain FROM statuses s JOIN accounts a ON a.id = s.account_id"
            " WHERE s.id = $1",
            status_id,
        )
        if author is None:
            return None
        author_id = int(author["id"])
        author_local = author["domain"] == ""
        voters = await tx.fetch(
            "SELECT DISTINCT v.account_id FROM poll_votes v JOIN accounts a ON a.id = v.account_id"
            " WHERE v.poll_id = $1 AND a.domain = '' AND v.account_id <> $2"
            " AND NOT EXISTS (SELECT 1 FROM blocks b"
            "  WHERE b.account_id = v.account_id AND b.target_account_id = $2)"
            " AND NOT EXISTS (SELECT 1 FROM mutes m"
            "  WHERE m.account_id = v.account_id AND m.target_account_id = $2"
            "  AND m.hide_notifications AND (m.expires_at IS NULL OR m.expires_at > $3))",
            poll_id,
            author_id,
            now,
        )
        recipients = sorted(int(r["account_id"]) for r in voters)
        if author_local:
            recipients.append(author_id)
            # Its final tallies are owed to the peers from now on, whatever happens next.
            await effects.mark(tx, status_id, effects.POLL_ENDED)
        notifications = []
        for recipient in recipients:
            created = await tx.fetchrow(
                "INSERT INTO notifications (id, account_id, from_account_id, type, status_id,"
                " report_id, group_key, created_at) VALUES ($1,$2,$3,'poll',$4,NULL,$5,$6)"
                " RETURNING *",
                new_id(),
                recipient,
                author_id,
                status_id,
                f"poll-{status_id}",
                now,
            )
            assert created is not None
            notifications.append(build(Notification, created))
        return EndedPoll(poll_id, status_id, author_id, author_local, notifications)


async def _locked(tx: Connection, poll_id: int) -> Poll | None:
    """The poll, its row locked for the transaction: a no-op UPDATE locks it on PostgreSQL,
    so concurrent votes of one account are serialised (SQLite's writer lock already does)."""
    return build_opt(
        Poll,
        await tx.fetchrow(
            "UPDATE polls SET voters_count = voters_count WHERE id = $1 RETURNING *", poll_id
        ),
    )


async def _chosen(tx: Connection, poll_id: int, account_id: int) -> set[int]:
    """The options the account has already chosen on the poll."""
    rows = await tx.fetch(
        "SELECT choice FROM poll_votes WHERE poll_id = $1 AND account_id = $2",
        poll_id,
        account_id,
    )
    return {int(r["choice"]) for r in rows}


async def _count(
    tx: Connection, poll: Poll, account_id: int, choices: Sequence[int], *, new_voter: bool
) -> Poll:
    """Store the account's votes for ``choices`` (valid, not yet chosen) and move the poll's
    counts: the one path local and remote votes take."""
    votes = list(poll.votes) + [0] * (len(poll.options) - len(poll.votes))
    for choice in choices:
        await tx.execute(
            "INSERT INTO poll_votes (id, poll_id, account_id, choice, created_at)"
            " VALUES ($1,$2,$3,$4,$5)",
            new_id(),
            poll.id,
            account_id,
            choice,
            now_ms(),
        )
        votes[choice] += 1
    updated = await tx.fetchrow(
        "UPDATE polls SET votes = $1, voters_count = voters_count + $2 WHERE id = $3 RETURNING *",
        dumps(votes),
        1 if new_voter else 0,
        poll.id,
    )
    assert updated is not None
    # The poll renders inside its status: a new revision retires cached renderings.
    await tx.execute("UPDATE statuses SET rev = rev + 1 WHERE id = $1", poll.status_id)
    return build(Poll, updated)
