"""Policy list rows on SQLite and PostgreSQL: marks, subscriptions (one claim per due
sync), drafts, and the instance actor's signing key kept once."""

from __future__ import annotations

import asyncio

import pytest
from factories import local_account

from storage.errors import Conflict
from storage.store import Store


async def test_marks_keep_what_is_not_changed(store: Store) -> None:
    mark = await store.policy_lists.set_mark("block", "spam.example", published=True)
    assert mark.published and mark.subscription_id is None
    sub = await store.policy_lists.create_subscription("https://a.example/l.json", priority=3)
    mark = await store.policy_lists.set_mark("block", "spam.example", subscription_id=sub.id)
    assert mark.published and mark.subscription_id == sub.id
    mark = await store.policy_lists.set_mark("block", "spam.example", published=False)
    assert not mark.published and mark.subscription_id == sub.id
    # unsubscribing leaves the rule with the admin
    await store.policy_lists.delete_subscription(sub.id)
    found = await store.policy_lists.mark("block", "spam.example")
    assert found is not None and found.subscription_id is None
    assert await store.policy_lists.mark("allow", "spam.example") is None


async def test_subscriptions_by_priority_and_one_claim_per_due_sync(store: Store) -> None:
    low = await store.policy_lists.create_subscription(
        "https://a.example/l.json", excludes=["x.org"], severities=["suspend"]
    )
    high = await store.policy_lists.create_subscription("https://b.example/l.json", priority=200)
    assert low.excludes == ["x.org"] and low.severities == ["suspend"] and not low.from_config
    assert [s.id for s in await store.policy_lists.subscriptions()] == [high.id, low.id]
    with pytest.raises(Conflict):
        await store.policy_lists.create_subscription("https://a.example/l.json")
    updated = await store.policy_lists.update_subscription(low.id, mode="review", priority=7)
    assert updated is not None and updated.mode == "review" and updated.priority == 7
    claims = await asyncio.gather(
        *(store.policy_lists.claim_due(low.id, 0, 10_000) for _ in range(4))
    )
    assert sorted(claims) == [False, False, False, True]
    await store.policy_lists.record_fetch(low.id, ok=False, error="refused")
    row = await store.policy_lists.subscription(low.id)
    assert row is not None and row.error == "refused" and row.successfully_fetched_at is None
    await store.policy_lists.record_fetch(low.id, ok=True, count=4, content_type="json")
    row = await store.policy_lists.subscription(low.id)
    assert row is not None and row.error == "" and row.count == 4 and row.successfully_fetched_at


async def test_drafts_once_per_rule(store: Store) -> None:
    sub = await store.policy_lists.create_subscription("https://a.example/l.json")
    assert await store.policy_lists.put_draft(sub.id, "block", "spam.example", severity="silence")
    assert not await store.policy_lists.put_draft(sub.id, "block", "spam.example")
    (draft,) = await store.policy_lists.drafts(sub.id)
    assert draft.severity == "silence" and draft.kind == "block"
    await store.policy_lists.delete_subscription(sub.id)
    assert await store.policy_lists.drafts() == []


async def test_the_signing_key_is_kept_once(store: Store) -> None:
    account = await local_account(store, "instance")
    first = await store.policy_lists.create_multikey(account.id, "k1", "zFirst")
    second = await store.policy_lists.create_multikey(account.id, "k2", "zSecond")
    assert first == second and second.private_multibase == "zFirst"
