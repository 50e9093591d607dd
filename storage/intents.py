"""Deliveries owed for a local interaction: durable intents, written before the change.

A favourite, follow or block (and their undoing) is committed by one store call and
federated by the next; a process that dies between the two would lose the delivery. So the
use case first writes an intent (what it is about to federate), makes the change, hands it
to the outbox and deletes the intent. An intent left behind is taken, after its grace
time, by the worker, which reconciles it with the database state: it sends what that
state calls for, and nothing when the change never committed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from storage.db import Database, Row
from storage.ids import new_id, now_ms
from storage.models import Status

FAVOURITE = "favourite"
UNFAVOURITE = "unfavourite"
FOLLOW = "follow"
UNFOLLOW = "unfollow"
BLOCK = "block"
UNBLOCK = "unblock"
# A local account accepting or rejecting (or removing) a remote follower: the account is
# the local one, the target the follower.
ACCEPT_FOLLOW = "accept_follow"
REJECT_FOLLOW = "reject_follow"
# A local status (or reblog) deleted: its Delete (or the Undo of its Announce).
DELETE_STATUS = "delete_status"
# A local profile changed: its Update (of the profile as it is when sent).
PROFILE = "profile"
# A local account voted on a remote poll (the target is the poll's status).
POLL_VOTE = "poll_vote"
# A report forwarded to the reported account's server (the target is the report).
REPORT = "report"

# How long the use case has to finish before the worker may take its intent over; and how
# long the worker holds an intent it took (longer after each attempt).
GRACE_MS = 30_000
LEASE_MS = 60_000


@dataclass(frozen=True, slots=True)
class Intent:
    id: int
    kind: str
    account_id: int
    # The status (favourites) or the other account (follows, blocks).
    target_id: int
    # The id of the activity sent, or of the one an Undo takes back.
    uri: str | None
    attempts: int
    # What the change deletes and its delivery still needs (see ``deleted_status``).
    payload: str | None


def _intent(r: Row) -> Intent:
    uri = r["uri"]
    return Intent(
        int(r["id"]),
        str(r["kind"]),
        int(r["account_id"]),
        int(r["target_id"]),
        None if uri is None else str(uri),
        int(r["attempts"]),
        None if r["payload"] is None else str(r["payload"]),
    )


def deleted_status(status: Status, mentioned: Sequence[int]) -> str:
    """The payload of a ``DELETE_STATUS`` intent: the status row and whom it mentioned."""
    return json.dumps({"status": asdict(status), "mentioned": list(mentioned)})


def read_deleted_status(payload: str) -> tuple[Status, list[int]]:
    data = json.loads(payload)
    return Status(**data["status"]), [int(i) for i in data["mentioned"]]


class IntentStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        kind: str,
        account_id: int,
        target_id: int,
        uri: str | None,
        *,
        payload: str | None = None,
        grace_ms: int = GRACE_MS,
    ) -> int:
        """Record (in its own commit) that ``kind`` is about to be federated; its id."""
        now = now_ms()
        intent_id = new_id(now)
        await self._db.execute(
            "INSERT INTO federation_intents (id, kind, account_id, target_id, uri, payload,"
            " attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8)",
            intent_id,
            kind,
            account_id,
            target_id,
            uri,
            payload,
            now + grace_ms,
            now,
        )
        return intent_id

    async def done(self, intent_id: int) -> None:
        await self._db.execute("DELETE FROM federation_intents WHERE id = $1", intent_id)

    async def pending(self) -> list[Intent]:
        """Every intent still there, oldest first."""
        rows = await self._db.fetch("SELECT * FROM federation_intents ORDER BY id")
        return [_intent(r) for r in rows]

    async def claim_due(self, limit: int, *, lease_ms: int = LEASE_MS) -> list[Intent]:
        """Take intents whose time has come; each is leased (longer after each attempt) so a
        worker that dies leaves it to another, later."""
        now = now_ms()
        lock = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "postgres" else ""
        rows = await self._db.fetch(
            "UPDATE federation_intents SET attempts = attempts + 1,"
            " next_attempt_at = CAST($1 AS BIGINT) + CAST($2 AS BIGINT)"
            " * (CASE WHEN attempts > 6 THEN 64 ELSE attempts + 1 END)"
            " WHERE id IN (SELECT id FROM federation_intents"
            f" WHERE next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $3{lock})"
            " RETURNING *",
            now,
            lease_ms,
            limit,
        )
        return [_intent(r) for r in rows]
