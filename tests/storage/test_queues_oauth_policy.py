from __future__ import annotations

import pytest
from factories import local_account

from storage.errors import Conflict
from storage.ids import now_ms
from storage.paging import Page
from storage.policy_rows import NewDecision
from storage.queues import NewDelivery, NewInboxItem
from storage.store import Store


async def test_inbox_queue_dedupes_and_claims_once(store: Store) -> None:
    items = [NewInboxItem(activity_id=f"https://r.test/a/{i}", payload="{}", peer="r.test", actor="https://r.test/u") for i in range(5)]
    assert await store.queues.enqueue_inbox(items) == 5
    assert await store.queues.enqueue_inbox(items[:2]) == 0
    first = await store.queues.claim_inbox(3)
    second = await store.queues.claim_inbox(10)
    assert len(first) == 3 and len(second) == 2
    assert not {i.id for i in first} & {i.id for i in second}
    assert await store.queues.claim_inbox(10) == []
    for item in first + second:
        await store.queues.finish_inbox(item.id)
    assert await store.queues.inbox_pending() == 0


async def test_expired_lease_is_claimed_again(store: Store) -> None:
    await store.queues.enqueue_inbox([NewInboxItem(activity_id="a", payload="{}", peer="p", actor="x")])
    claimed = await store.queues.claim_inbox(1, lease_ms=-1)  # the worker "died" at once
    assert len(claimed) == 1
    again = await store.queues.claim_inbox(1)
    assert [i.activity_id for i in again] == ["a"]


async def test_delivery_retry_and_dead(store: Store) -> None:
    alice = await local_account(store, "alice")
    d = NewDelivery(activity_id="act", inbox_url="https://r.test/inbox", peer="r.test", sender_account_id=alice.id, payload="{}")
    assert await store.queues.enqueue_deliveries([d, d], ttl_ms=1000) == 1
    [row] = await store.queues.claim_deliveries(5)
    await store.queues.retry_delivery(row.id, "boom", retry_at=now_ms() + 60_000, dead=False)
    assert await store.queues.claim_deliveries(5) == []
    assert await store.queues.deliveries_pending() == 1
    await store.queues.retry_delivery(row.id, "gone", retry_at=now_ms(), dead=True)
    assert await store.queues.deliveries_by_state() == {"dead": 1}


async def test_oauth_tokens_hashed_and_codes_single_use(store: Store) -> None:
    alice = await local_account(store, "alice")
    user = await store.users.by_account(alice.id)
    assert user is not None
    app = await store.oauth.create_app(name="t", website=None, redirect_uris="urn:ietf:wg:oauth:2.0:oob", scopes="read", client_id="cid", client_secret="sec")
    await store.oauth.create_token("secret-token", app_id=app.id, user_id=user.id, scopes="read")
    raw = await store.db.fetchval("SELECT token_hash FROM oauth_tokens")
    assert raw != "secret-token"
    assert (await store.oauth.token("secret-token")) is not None
    assert await store.oauth.revoke_token("secret-token")
    assert (await store.oauth.token("secret-token")) is None
    await store.oauth.create_code("c0de", app_id=app.id, user_id=user.id, redirect_uri="x", scopes="read", code_challenge=None, code_challenge_method=None)
    assert (await store.oauth.take_code("c0de")) is not None
    assert (await store.oauth.take_code("c0de")) is None


async def test_domain_rules_and_decision_log(store: Store) -> None:
    block = await store.policy.create_domain_block("spam.test", severity="suspend", public_comment="spam")
    with pytest.raises(Conflict):
        await store.policy.create_domain_block("spam.test")
    updated = await store.policy.update_domain_block(block.id, severity="silence")
    assert updated is not None and updated.severity == "silence"
    await store.policy.create_domain_allow("friend.test")
    assert [a.domain for a in await store.policy.domain_allows()] == ["friend.test"]
    await store.policy.record_decisions([
        NewDecision(time=now_ms(), direction="inbound", peer="spam.test", actor=None, activity_id="x",
                    activity_type="Create", rule="keyword", action="reject", enforced=True, reason="r"),
        NewDecision(time=now_ms(), direction="outbound", peer="spam.test", actor=None, activity_id="y",
                    activity_type="Note", rule="domain_block", action="reject", enforced=False, reason="r"),
    ])
    rows = await store.policy.decisions(Page(limit=10))
    assert [r.activity_id for r in rows] == ["y", "x"]
    assert rows[0].enforced is False and rows[1].enforced is True
    assert [r.activity_id for r in await store.policy.decisions(Page(), direction="inbound")] == ["x"]
    assert await store.policy.prune_decisions(now_ms() + 1) == 2
