"""Completing the side effects owed for a stored status (``storage.effects`` marks).

The code that stores a status (the inbox worker for a remote one, the application for a
local one) makes its side effects itself and then deletes the mark; this is the path that
finishes them when that code did not get there: an inbox activity run again after a
crash, or the worker taking over marks that stayed past their time. Everything it calls is
idempotent (notifications carry a key, delivery rows are unique per activity and inbox).
"""

from __future__ import annotations

import logging

from activitypub.outbox import Outbox
from activitypub.surface import Surface
from storage import effects
from storage.models import Status
from storage.store import Store

log = logging.getLogger("fedinode.federation")

# A mark whose side effects failed this many times is given up (and logged).
MAX_ATTEMPTS = 10


class EffectsCompleter:
    def __init__(self, store: Store, surface: Surface, outbox: Outbox) -> None:
        self.store = store
        self.surface = surface
        self.outbox = outbox

    async def finish(self, status: Status) -> None:
        """Complete whatever is still owed for ``status`` (nothing, usually: one read)."""
        for event in await self.store.effects.of(status.id):
            await self.complete(status.id, event)

    async def complete(self, status_id: int, event: str) -> None:
        """Make the side effects of ``event`` for the status, then delete its mark."""
        if event == effects.POLL_COUNTS:
            await self.outbox.poll_updated(status_id)
            await self.store.effects.done(status_id, event)
            return
        status = await self.store.statuses.get(status_id)
        author = await self.store.accounts.get(status.account_id) if status is not None else None
        if status is not None and author is not None:
            if event == effects.CREATED and status.reblog_of_id is not None:
                original = await self.store.statuses.get(status.reblog_of_id)
                if original is not None:
                    await self.surface.reblogged(status, original, author)
                    await self.outbox.reblogged(status)
            elif event == effects.CREATED:
                await self.surface.status_created(status, author)
                await self.outbox.status_created(status, author)
            elif event == effects.POLL_ENDED:
                await self.outbox.status_updated(status)
            elif event == effects.UPDATED:
                await self.surface.status_updated(status, author)
                await self.outbox.status_updated(status)
            else:
                log.warning("unknown pending side effect %r of status %s", event, status_id)
        await self.store.effects.done(status_id, event)

    async def run_due(self, limit: int = 50) -> int:
        """Complete the marks whose time has come; returns how many were taken. A failure
        leaves the mark for a later attempt (its lease grows), up to ``MAX_ATTEMPTS``."""
        due = await self.store.effects.claim_due(limit)
        for pending in due:
            try:
                await self.complete(pending.status_id, pending.event)
            except Exception:
                if pending.attempts >= MAX_ATTEMPTS:
                    log.exception(
                        "side effects %s of status %s failed %d times; given up",
                        pending.event,
                        pending.status_id,
                        pending.attempts,
                    )
                    await self.store.effects.done(pending.status_id, pending.event)
                else:
                    log.exception(
                        "side effects %s of status %s failed; retried later",
                        pending.event,
                        pending.status_id,
                    )
        return len(due)
