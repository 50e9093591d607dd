"""Federation intents: kept until done, taken by one worker at a time once due, on SQLite
and PostgreSQL."""

from __future__ import annotations

from storage import intents
from storage.models import Status
from storage.store import Store


async def test_an_intent_is_due_only_after_its_grace_time_and_leased_once(store: Store) -> None:
    first = await store.intents.add(intents.FAVOURITE, 1, 2, "http://x/likes/1")
    soon = await store.intents.add(intents.BLOCK, 1, 3, None, grace_ms=0)
    assert [i.id for i in await store.intents.pending()] == [first, soon]
    (taken,) = await store.intents.claim_due(10)
    assert (taken.id, taken.kind, taken.target_id, taken.uri, taken.attempts) == (
        soon, intents.BLOCK, 3, None, 1
    )  # fmt: skip
    # Leased: another worker does not take it (nor the one still in its grace time).
    assert await store.intents.claim_due(10) == []
    await store.intents.done(soon)
    assert [i.id for i in await store.intents.pending()] == [first]


async def test_a_lapsed_lease_is_taken_again_with_one_more_attempt(store: Store) -> None:
    await store.intents.add(intents.UNFOLLOW, 1, 2, "http://x/follows/1", grace_ms=0)
    (first,) = await store.intents.claim_due(10, lease_ms=0)
    (again,) = await store.intents.claim_due(10)
    assert again.id == first.id and again.attempts == 2


async def test_a_deleted_status_survives_in_its_payload() -> None:
    status = Status(
        id=7, uri="http://h/s/7", url="http://h/@a/7", account_id=1, local=True,
        in_reply_to_id=None, in_reply_to_uri=None, in_reply_to_account_id=None,
        reblog_of_id=None, conversation=None, content="<p>x</p>", text="x", spoiler_text="",
        sensitive=False, visibility="public", language="en", emojis=[{"shortcode": "s"}],
        application_id=None, replies_count=0, reblogs_count=1, favourites_count=2,
        created_at=5, edited_at=None, deleted_at=None,
    )  # fmt: skip
    assert intents.read_deleted_status(intents.deleted_status(status, [3, 4])) == (status, [3, 4])
