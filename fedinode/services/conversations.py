"""Direct-message conversations as the viewer sees them: the other participants and the
last status, loaded for rendering (``schemas.conversation_view_to_api``)."""

from __future__ import annotations

from dataclasses import dataclass

from fedinode.services.views import StatusView, load_status_views
from storage.conversations import ConversationRow
from storage.models import Account
from storage.store import Store


@dataclass(frozen=True, slots=True)
class ConversationView:
    row: ConversationRow
    accounts: list[Account]
    last_status: StatusView


async def load_conversation(
    store: Store, viewer_id: int, row: ConversationRow
) -> ConversationView | None:
    """The conversation ``row`` of ``viewer_id``; None when its last status is gone."""
    last = await store.statuses.get(row.last_status_id)
    if last is None:
        return None
    views = await load_status_views(store, [last], viewer_id)
    if not views:
        return None
    ids = [i for i in await store.conversations.participants(row.conversation) if i != viewer_id]
    accounts = await store.accounts.get_many(ids)
    return ConversationView(row, [accounts[i] for i in ids if i in accounts], views[0])
