"""Ids for the activities a local account sends that a later Undo must name."""

from __future__ import annotations

from fedinode.services.context import Ctx
from storage.ids import new_id
from storage.models import Account


def new_activity_id(ctx: Ctx, account: Account, kind: str) -> str:
    """A fresh id for a Follow, Like or Block by ``account``, stored with the row it makes.

    Fresh each time: peers (and our own intake) drop an activity whose id they have seen, so
    a Like after an unlike must not reuse the first Like's id."""
    return ctx.urls.activity(account.username, f"{kind}-{new_id()}")
