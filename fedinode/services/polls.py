"""Poll endings: voters and authors hear when a poll closes; peers get the final tallies."""

from __future__ import annotations

import asyncio
import logging

from fedinode.services.context import Ctx
from fedinode.services.surface import SideEffects
from storage import effects
from storage.ids import now_ms

log = logging.getLogger("fedinode.polls")

# The longest the sweeper sleeps: a poll created meanwhile is announced at most this late.
SWEEP_SECONDS = 10.0


async def announce_ended(ctx: Ctx, now: int | None = None) -> int:
    """Announce every poll closed by ``now``; return how many were announced."""
    total = 0
    while True:
        ended = await ctx.store.polls.finish_due(now if now is not None else now_ms())
        for poll in ended:
            await SideEffects(ctx.store).poll_ended(poll)
            if poll.author_local:
                # As Mastodon does: peers get the closed poll with its final counts.
                status = await ctx.store.statuses.get(poll.status_id)
                if status is not None:
                    await ctx.federation.status_updated(status)
                # Marked when the poll was closed: the worker sends them if we die first.
                await ctx.store.effects.done(poll.status_id, effects.POLL_ENDED)
        total += len(ended)
        if not ended:
            return total


async def sweep_forever(ctx: Ctx) -> None:
    """Announce polls as they close, until cancelled; the state lives in ``polls.notified``."""
    while True:
        try:
            await announce_ended(ctx)
            due = await ctx.store.polls.next_due()
        except Exception:
            log.exception("poll sweep failed")
            due = None
        wait = SWEEP_SECONDS
        if due is not None:
            wait = min(wait, max((due - now_ms()) / 1000, 0.0) + 0.05)
        await asyncio.sleep(wait)
