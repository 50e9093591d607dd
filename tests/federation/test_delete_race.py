"""A Delete processed before (or while) its Create must not leave the status alive: the
Delete records a tombstone, and a tombstoned URI is never stored again."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from activitypub import vocab
from activitypub.errors import ObjectDeleted
from federation.conftest import Instance, InstanceFactory, eventually
from storage.ids import new_id, now_ms
from storage.models import Account
from storage.paging import Page
from storage.queues import NewInboxItem
from storage.times import as2_datetime


async def _setup(
    instances: InstanceFactory, backend: str = "sqlite"
) -> tuple[Instance, Instance, Account, Account]:
    """alice@a (SQLite, or ``backend``) follows bob@b (the other one); returns (a, b, alice,
    bob as a knows him)."""
    a = await instances("a", backend=backend)
    b = await instances("b", backend="postgres" if backend == "sqlite" else "sqlite")
    alice = await a.user("alice")
    await b.user("bob")
    bob_on_a = await a.follow(alice, f"bob@{b.domain}")
    await eventually(lambda: a.store.relationships.get_follow(alice.id, bob_on_a.id), what="accept")
    return a, b, alice, bob_on_a


def _activities(bob: Account) -> tuple[str, dict[str, Any], dict[str, Any]]:
    note_uri = f"{bob.uri}/statuses/{new_id()}"
    note = {
        "id": note_uri,
        "type": vocab.NOTE,
        "attributedTo": bob.uri,
        "content": "<p>regrettable</p>",
        "to": [vocab.PUBLIC],
        "cc": [bob.followers_url],
        "published": as2_datetime(now_ms()),
    }
    create = {
        "id": f"{note_uri}/activity",
        "type": vocab.CREATE,
        "actor": bob.uri,
        "object": note,
        "to": note["to"],
        "cc": note["cc"],
    }
    delete = {
        "id": f"{note_uri}#delete",
        "type": vocab.DELETE,
        "actor": bob.uri,
        "object": {"id": note_uri, "type": vocab.TOMBSTONE},
        "to": [vocab.PUBLIC],
    }
    return note_uri, create, delete


async def _in_home(a: Instance, alice: Account, uri: str) -> bool:
    return any(s.uri == uri for s in await a.store.statuses.home_timeline(alice.id, Page()))


async def _through_the_queue(a: Instance, doc: dict[str, Any]) -> None:
    peer = str(doc["actor"]).split("/")[2]
    await a.store.queues.enqueue_inbox(
        [NewInboxItem(str(doc["id"]), orjson.dumps(doc).decode(), peer, str(doc["actor"]))]
    )
    a.fed.inbox_wake.set()

    async def done() -> bool:
        return await a.store.queues.inbox_pending() == 0

    await eventually(done, what=f"{doc['type']} processed")


async def test_delete_before_create_through_the_inbox_workers(instances: InstanceFactory) -> None:
    a, _b, alice, bob = await _setup(instances)
    assert a.fed.settings.inbox_workers >= 2
    uri, create, delete = _activities(bob)
    await _through_the_queue(a, delete)
    assert await a.store.tombstones.exists(uri)
    await _through_the_queue(a, create)
    assert await a.store.statuses.by_uri(uri) is None
    assert not await _in_home(a, alice, uri)
    # Neither an Announce nor a lookup brings it back.
    assert await a.fed.resolve_status(uri) is None


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_delete_while_the_create_is_being_stored(
    instances: InstanceFactory, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """The Create has passed its first tombstone check when the Delete runs (and finds
    nothing): the Create's insert sees the tombstone and stores nothing."""
    a, _b, alice, bob = await _setup(instances, backend)
    uri, create, delete = _activities(bob)
    entered, release = asyncio.Event(), asyncio.Event()
    resolver = a.fed.resolver
    original = resolver.mention_ids

    async def slow_mentions(parsed: Any) -> list[int]:
        entered.set()
        await release.wait()
        return await original(parsed)

    monkeypatch.setattr(resolver, "mention_ids", slow_mentions)
    creating = asyncio.create_task(a.fed.processor.apply(create))
    await entered.wait()
    await a.fed.processor.apply(delete)
    assert await a.store.statuses.by_uri(uri) is None
    release.set()
    with pytest.raises(ObjectDeleted):
        await creating
    assert await a.store.statuses.by_uri(uri) is None
    assert not await _in_home(a, alice, uri)


async def test_create_completes_while_the_delete_looks(
    instances: InstanceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Delete found nothing, the Create then stores the status before the tombstone is
    written: the Delete looks again after writing it and removes the status."""
    a, _b, alice, bob = await _setup(instances)
    uri, create, delete = _activities(bob)
    entered, release = asyncio.Event(), asyncio.Event()
    tombstones = a.store.tombstones
    original = tombstones.add

    async def slow_add(target: str, account_id: int | None = None) -> None:
        entered.set()
        await release.wait()
        await original(target, account_id)

    monkeypatch.setattr(tombstones, "add", slow_add)
    deleting = asyncio.create_task(a.fed.processor.apply(delete))
    await entered.wait()
    await a.fed.processor.apply(create)
    assert await a.store.statuses.by_uri(uri) is not None
    release.set()
    await deleting
    assert await a.store.statuses.by_uri(uri) is None
    assert not await _in_home(a, alice, uri)
    # A redelivered Create is refused.
    with pytest.raises(ObjectDeleted):
        await a.fed.processor.apply(create)
    assert await a.store.statuses.by_uri(uri) is None


async def test_tombstones_are_pruned_after_a_week(instances: InstanceFactory) -> None:
    a, _b, _alice, bob = await _setup(instances)
    uri, _create, delete = _activities(bob)
    await a.fed.processor.apply(delete)
    assert await a.store.tombstones.exists(uri)
    await a.fed.prune_queues(now_ms() + 2 * 86_400_000)
    assert await a.store.tombstones.exists(uri)
    await a.fed.prune_queues(now_ms() + 9 * 86_400_000)
    assert not await a.store.tombstones.exists(uri)
