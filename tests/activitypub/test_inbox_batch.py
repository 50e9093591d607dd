"""The inbox worker applies claimed items in one transaction: what needs the network or
fails runs alone afterwards, nothing is applied twice, and an item's changes and its
"done" commit together. On a real instance, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from federation.conftest import Instance, free_port
from remote_peer import FakePeer, start_peer

from activitypub.processing import InboxProcessor
from storage.db import current_batch, wait_patiently
from storage.models import Account, InboxItem
from storage.paging import Page
from storage.queues import NewInboxItem

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    p = await start_peer({"mallory": 0, "trent": 1})
    yield p
    await p.server.close()


@pytest.fixture
async def home(database_url: str, tmp_path: Path) -> AsyncIterator[Instance]:
    instance = Instance("home", free_port(), database_url, tmp_path)
    await instance.start()
    # The test drives the worker itself: the background loop must not claim the rows.
    instance.fed.processor.stop()
    await asyncio.sleep(0.3)
    yield instance
    await instance.stop()


def _create(peer: FakePeer, actor: str, n: int, *, mention: Account | None = None,
            author: str | None = None) -> dict[str, Any]:  # fmt: skip
    uri = peer.actor_uri(actor)
    note_id = f"{uri}/statuses/{n}"
    obj: dict[str, Any] = {
        "id": note_id,
        "type": "Note",
        "attributedTo": peer.actor_uri(author) if author else uri,
        "content": f"<p>note {n}</p>",
        "to": [PUBLIC],
        "published": "2026-01-01T00:00:00Z",
    }
    if mention is not None:
        obj["cc"] = [mention.uri]
        obj["tag"] = [{"type": "Mention", "href": mention.uri, "name": f"@{mention.username}"}]
    return {"id": f"{note_id}/activity", "type": "Create", "actor": uri, "to": [PUBLIC],
            "object": obj}  # fmt: skip


def _item(peer: FakePeer, activity: dict[str, Any]) -> NewInboxItem:
    return NewInboxItem(
        activity_id=activity["id"],
        payload=orjson.dumps(activity).decode(),
        peer=peer.domain,
        actor=activity["actor"],
    )


async def _enqueue(home: Instance, peer: FakePeer, activities: list[dict[str, Any]]) -> None:
    await home.store.queues.enqueue_inbox([_item(peer, a) for a in activities])


async def _claim_all(home: Instance) -> list[InboxItem]:
    return await home.store.queues.claim_inbox(100)


async def _states(home: Instance) -> dict[str, str]:
    rows = await home.store.db.fetch("SELECT activity_id, state FROM inbox_queue")
    return {r["activity_id"]: r["state"] for r in rows}


async def test_a_batch_applies_known_actors_and_leaves_what_needs_a_fetch_to_run_alone(
    home: Instance, peer: FakePeer
) -> None:
    processor: InboxProcessor = home.fed.processor
    alice = await home.user("alice")
    await processor.apply(_create(peer, "mallory", 0))  # mallory is known from now on
    fetches = len(peer.hits)

    known = [_create(peer, "mallory", n, mention=alice) for n in (1, 2, 3)]
    unknown = _create(peer, "trent", 1)  # trent's actor document must be fetched
    wrong = _create(peer, "mallory", 4, author="trent")  # malformed: dropped, done
    again = {**known[0], "id": f"{known[0]['id']}-again"}  # the same note once more
    await _enqueue(home, peer, [*known, unknown, wrong, again])

    alone = await processor.apply_batched(await _claim_all(home))

    assert [item.activity_id for item in alone] == [unknown["id"]]
    assert len(peer.hits) == fetches  # the batch fetched nothing
    states = await _states(home)
    assert states[unknown["id"]] == "processing"  # still leased: it runs next
    assert all(states[a["id"]] == "done" for a in [*known, wrong, again])
    for activity in known:
        assert await home.store.statuses.by_uri(activity["object"]["id"]) is not None
    assert await home.store.statuses.by_uri(wrong["object"]["id"]) is None
    mentions = await home.store.notifications.list(alice.id, Page(limit=40))
    assert sorted(n.type for n in mentions) == ["mention"] * 3

    # Run alone (as run_once does), trent's Create fetches the actor and is stored.
    assert await processor.process(alone[0])
    assert await home.store.statuses.by_uri(unknown["object"]["id"]) is not None


async def test_run_once_finishes_the_batch_and_the_items_left_alone(
    home: Instance, peer: FakePeer
) -> None:
    processor: InboxProcessor = home.fed.processor
    await processor.apply(_create(peer, "mallory", 0))
    activities = [*(_create(peer, "mallory", n) for n in range(1, 6)), _create(peer, "trent", 1)]
    await _enqueue(home, peer, activities)

    assert await processor.run_once() == len(activities)

    states = await _states(home)
    assert all(states[a["id"]] == "done" for a in activities)
    mallory = await home.store.accounts.by_uri(peer.actor_uri("mallory"))
    assert mallory is not None and mallory.statuses_count == 6
    uris = [a["object"]["id"] for a in activities]
    count = await home.store.db.fetchval(
        "SELECT COUNT(*) FROM statuses WHERE uri IN ($1, $2, $3, $4, $5, $6)", *uris
    )
    assert count == len(activities)


async def test_a_batch_that_fails_as_a_whole_commits_nothing_and_hands_every_item_back(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    processor: InboxProcessor = home.fed.processor
    await processor.apply(_create(peer, "mallory", 0))
    activities = [_create(peer, "mallory", n) for n in (1, 2)]
    await _enqueue(home, peer, activities)
    items = await _claim_all(home)

    async def broken(item_ids: object) -> None:
        raise RuntimeError("the database went away at the end of the batch")

    monkeypatch.setattr(home.store.queues, "finish_inbox_many", broken)
    alone = await processor.apply_batched(items)
    monkeypatch.undo()

    assert sorted(i.activity_id for i in alone) == sorted(a["id"] for a in activities)
    for activity in activities:  # rolled back with the batch: nothing half-applied
        assert await home.store.statuses.by_uri(activity["object"]["id"]) is None
    for item in alone:  # each runs alone, once
        assert await processor.process(item)
    for activity in activities:
        assert await home.store.statuses.by_uri(activity["object"]["id"]) is not None


async def test_a_batch_stores_sanitised_notes_and_owes_no_side_effects_after_its_commit(
    home: Instance, peer: FakePeer
) -> None:
    processor: InboxProcessor = home.fed.processor
    alice = await home.user("alice")
    await processor.apply(_create(peer, "mallory", 0))
    hostile = _create(peer, "mallory", 1, mention=alice)
    # Converted before the transaction opens: sanitised all the same.
    hostile["object"]["content"] = (
        '<p>hi <script>alert(1)</script><a href="javascript:steal()">x</a></p>'
    )
    await _enqueue(home, peer, [hostile])

    assert await processor.apply_batched(await _claim_all(home)) == []

    status = await home.store.statuses.by_uri(hostile["object"]["id"])
    assert status is not None
    assert "hi" in status.content
    assert "<script" not in status.content and "javascript:" not in status.content
    # The status and its side effects committed together: nothing is left owed.
    assert await home.store.db.fetchval("SELECT COUNT(*) FROM pending_effects") == 0
    mentions = await home.store.notifications.list(alice.id, Page(limit=40))
    assert [n.type for n in mentions] == ["mention"]


async def test_a_batch_notifies_each_mentioned_account_once_and_the_followers_who_asked(
    home: Instance, peer: FakePeer
) -> None:
    """A note's mentions (one named twice) and its author's notify-followers hear of it
    once each, a mentioned follower as a mention only; the other note, mentioning no one,
    tells only the follower who asked."""
    processor: InboxProcessor = home.fed.processor
    alice, bob, carol = await home.user("alice"), await home.user("bob"), await home.user("carol")
    await processor.apply(_create(peer, "mallory", 0))
    mallory = await home.store.accounts.by_uri(peer.actor_uri("mallory"))
    assert mallory is not None
    for follower in (bob, carol):
        await home.store.relationships.follow(follower.id, mallory.id, notify=True)
    mentioning = _create(peer, "mallory", 1, mention=alice)
    mentioning["object"]["tag"] += [
        {"type": "Mention", "href": alice.uri, "name": "@alice"},
        {"type": "Mention", "href": bob.uri, "name": "@bob"},
    ]
    await _enqueue(home, peer, [mentioning, _create(peer, "mallory", 2)])

    assert await processor.apply_batched(await _claim_all(home)) == []

    first = await home.store.statuses.by_uri(mentioning["object"]["id"])
    second = await home.store.statuses.by_uri(_create(peer, "mallory", 2)["object"]["id"])
    assert first is not None and second is not None

    async def heard(account: Account) -> list[tuple[str, int | None]]:
        return sorted(
            (n.type, n.status_id)
            for n in await home.store.notifications.list(account.id, Page(limit=40))
        )

    assert await heard(alice) == [("mention", first.id)]
    assert await heard(bob) == sorted([("mention", first.id), ("status", second.id)])
    assert await heard(carol) == sorted([("status", first.id), ("status", second.id)])


async def test_an_item_whose_card_fails_in_the_batch_runs_alone_and_gets_its_card(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A card that cannot be attached inside the batch (the failure is caught: a card fails
    nothing else) takes the item's whole savepoint with it: the item runs again alone,
    where the card is attached, and the batch's other items are stored once."""
    processor: InboxProcessor = home.fed.processor
    await processor.apply(_create(peer, "mallory", 0))
    activities = [_create(peer, "mallory", n) for n in (1, 2, 3)]
    linked = activities[1]
    linked["object"]["content"] = '<p>see <a href="https://example.org/page">this</a></p>'
    await _enqueue(home, peer, activities)
    attach = home.store.preview_cards.attach

    async def fails_in_a_batch(status_id: int, url: str | None) -> Any:
        if current_batch(home.store.db) is not None:  # fails halfway through its transaction
            async with home.store.db.transaction() as tx:
                await tx.execute("UPDATE statuses SET rev = rev + 1 WHERE id = $1", status_id)
                raise RuntimeError("the card could not be attached")
        return await attach(status_id, url)

    monkeypatch.setattr(home.store.preview_cards, "attach", fails_in_a_batch)
    alone = await processor.apply_batched(await _claim_all(home))

    assert [item.activity_id for item in alone] == [linked["id"]]
    assert await home.store.statuses.by_uri(linked["object"]["id"]) is None  # not half-stored
    assert await processor.process(alone[0])
    status = await home.store.statuses.by_uri(linked["object"]["id"])
    assert status is not None
    card = await home.store.preview_cards.by_url("https://example.org/page")
    assert card is not None
    shown = await home.store.db.fetchval(
        "SELECT card_id FROM status_cards WHERE status_id = $1", status.id
    )
    assert shown == card.id
    mallory = await home.store.accounts.by_uri(peer.actor_uri("mallory"))
    assert mallory is not None and mallory.statuses_count == 4  # each stored once


@pytest.mark.parametrize("patient", [True, False])
async def test_a_batch_gives_way_to_a_waiting_intake_commit_not_to_the_other_inbox_loop(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch, patient: bool
) -> None:
    """A write that waits for the writer while a batch runs makes the batch commit early
    (SQLite's one writer: an intake commit, which a 202 waits for); the waits of the other
    inbox loop of the process do not (it marks itself patient), so the batch runs whole."""
    processor: InboxProcessor = home.fed.processor
    await processor.apply(_create(peer, "mallory", 0))
    activities = [_create(peer, "mallory", n) for n in range(1, 6)]
    await _enqueue(home, peer, activities)
    items = await _claim_all(home)
    monkeypatch.setattr(processor, "transaction_seconds", 60.0)
    monkeypatch.setattr(processor, "contended_transaction_seconds", 0.0)
    monkeypatch.setattr(processor, "contended_transaction_items", 1)
    await home.store.db.execute("CREATE TABLE waiter_probe (n INTEGER PRIMARY KEY)")
    batch_open = asyncio.Event()
    apply_item = processor._apply_item

    async def first_opens(item: InboxItem) -> None:
        if not batch_open.is_set():
            batch_open.set()
            await asyncio.sleep(0.05)  # the other writer now waits for the batch
        await apply_item(item)

    async def other_writer() -> None:
        if patient:
            wait_patiently()  # as the other inbox loop does
        await batch_open.wait()
        await home.store.db.execute("INSERT INTO waiter_probe (n) VALUES (1)")

    commits: list[int] = []
    finish = home.store.queues.finish_inbox_many

    async def counted(item_ids: Any) -> None:
        commits.append(len(item_ids))
        await finish(item_ids)

    monkeypatch.setattr(processor, "_apply_item", first_opens)
    monkeypatch.setattr(home.store.queues, "finish_inbox_many", counted)
    writer = asyncio.create_task(other_writer())
    assert await processor.apply_batched(items) == []
    await asyncio.wait_for(writer, 5.0)

    if patient or home.store.dialect == "postgres":  # PostgreSQL has no one writer
        assert commits == [len(activities)]
    else:
        assert commits[0] < len(activities) and sum(commits) == len(activities)
    states = await _states(home)
    assert all(states[a["id"]] == "done" for a in activities)


async def test_a_create_after_its_actor_was_deleted_in_the_same_batch_does_not_reuse_it(
    home: Instance, peer: FakePeer
) -> None:
    """Creates of one actor in a batch share the actor they read; a Delete of the actor
    between them is seen by the Create after it, which runs alone (the actor is fetched
    anew) and stores its note under the account that exists, never the deleted one."""
    processor: InboxProcessor = home.fed.processor
    await processor.apply(_create(peer, "mallory", 0))
    uri = peer.actor_uri("mallory")
    delete = {"id": f"{uri}#delete", "type": "Delete", "actor": uri, "to": [PUBLIC],
              "object": uri}  # fmt: skip
    before, after = _create(peer, "mallory", 1), _create(peer, "mallory", 2)
    await _enqueue(home, peer, [before, delete, after])

    alone = await processor.apply_batched(await _claim_all(home))

    assert [item.activity_id for item in alone] == [after["id"]]
    assert await home.store.statuses.by_uri(after["object"]["id"]) is None
    assert await processor.process(alone[0])
    second = await home.store.statuses.by_uri(after["object"]["id"])
    assert second is not None
    author = await home.store.accounts.get(second.account_id)
    assert author is not None and author.uri == uri


async def test_statuses_linking_one_page_in_a_batch_show_its_card_after_an_item_rolled_back(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first status of a batch to link a page makes its card, and fails after that: its
    savepoint takes the card with it. The next status linking the page still shows a card
    that exists (made again), and the first, run alone, shows the same one."""
    processor: InboxProcessor = home.fed.processor
    await processor.apply(_create(peer, "mallory", 0))
    page = "https://example.org/shared-page"
    activities = [_create(peer, "mallory", n) for n in (1, 2, 3)]
    for activity in activities:
        activity["object"]["content"] = f'<p>read <a href="{page}">this</a></p>'
    await _enqueue(home, peer, activities)
    followers = home.store.relationships.local_follower_ids
    calls = 0

    async def first_fails(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:  # after the first status's card was attached
            raise RuntimeError("the first item fails late")
        return await followers(*args, **kwargs)

    monkeypatch.setattr(home.store.relationships, "local_follower_ids", first_fails)
    alone = await processor.apply_batched(await _claim_all(home))
    assert [item.activity_id for item in alone] == [activities[0]["id"]]
    assert await processor.process(alone[0])

    card = await home.store.preview_cards.by_url(page)
    assert card is not None
    for activity in activities:
        status = await home.store.statuses.by_uri(activity["object"]["id"])
        assert status is not None
        shown = await home.store.db.fetchval(
            "SELECT card_id FROM status_cards WHERE status_id = $1", status.id
        )
        assert shown == card.id


async def test_a_batch_commits_item_by_item_while_its_process_intake_commits(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite the POSTs a process serves wait for the one writer a batch holds: while
    the process's own intake commits, a transaction lasts ``busy_transaction_seconds``
    (here: one item), once it is quiet ``transaction_seconds``. On PostgreSQL the intake
    waits for no inbox transaction: they stay long (a commit is a WAL flush)."""
    processor: InboxProcessor = home.fed.processor
    await processor.apply(_create(peer, "mallory", 0))
    monkeypatch.setattr(processor, "transaction_seconds", 60.0)
    monkeypatch.setattr(processor, "busy_transaction_seconds", 0.0)
    monkeypatch.setattr(processor, "intake_quiet_seconds", 60.0)
    commits: list[int] = []
    finish = home.store.queues.finish_inbox_many

    async def counted(item_ids: Any) -> None:
        commits.append(len(item_ids))
        await finish(item_ids)

    monkeypatch.setattr(home.store.queues, "finish_inbox_many", counted)
    quiet = [_create(peer, "mallory", n) for n in range(1, 5)]
    await _enqueue(home, peer, quiet)
    assert await processor.apply_batched(await _claim_all(home)) == []
    assert commits == [len(quiet)]  # no intake: one transaction
    commits.clear()
    posted = _create(peer, "mallory", 5)
    # What a POST to the inbox does after its checks: the intake's group commit.
    await home.fed.writer.add(_item(peer, posted))
    await _enqueue(home, peer, [_create(peer, "mallory", n) for n in range(6, 9)])
    items = await _claim_all(home)
    assert len(items) == 4
    assert await processor.apply_batched(items) == []
    assert commits == ([1, 1, 1, 1] if home.store.dialect == "sqlite" else [4])
    states = await _states(home)
    assert all(state == "done" for state in states.values())
    for n in range(9):
        assert await home.store.statuses.by_uri(f"{peer.actor_uri('mallory')}/statuses/{n}")


async def test_a_run_of_creates_by_one_actor_reads_the_actor_once(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch reads its actors' accounts once, before its transactions, and a run of
    Creates uses them; another type (which may change an account) empties what was read,
    so it and the Create after it read the actor again."""
    processor: InboxProcessor = home.fed.processor
    await processor.apply(_create(peer, "mallory", 0))
    asked: list[str] = []
    actor = processor.resolver.actor

    async def counted(uri: str, **kw: Any) -> Any:
        asked.append(uri)
        return await actor(uri, **kw)

    monkeypatch.setattr(processor.resolver, "actor", counted)
    uri = peer.actor_uri("mallory")
    like = {"id": f"{uri}/likes/1", "type": "Like", "actor": uri, "object": f"{uri}/statuses/0"}
    activities = [_create(peer, "mallory", 1), _create(peer, "mallory", 2), like,
                  _create(peer, "mallory", 3)]  # fmt: skip
    await _enqueue(home, peer, activities)
    assert await processor.apply_batched(await _claim_all(home)) == []
    # The Like and the Create after it; the first two Creates use the batch's read.
    assert asked == [uri] * 2
    for n in range(4):
        assert await home.store.statuses.by_uri(f"{uri}/statuses/{n}")


async def test_a_batch_adds_to_the_counters_once_for_what_it_stored(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Authors' status counts and parents' reply counts are added at the batch's commit,
    for the items it stored: not for one that rolled back (it runs alone, and counts
    then), nor twice for one stored before."""
    processor: InboxProcessor = home.fed.processor
    await processor.apply(_create(peer, "mallory", 0))
    await processor.apply(_create(peer, "trent", 0))
    parent = f"{peer.actor_uri('mallory')}/statuses/0"
    activities = [_create(peer, "mallory", n) for n in (1, 2)]
    activities += [_create(peer, "trent", n) for n in (1, 2, 3)]
    activities.append(_create(peer, "mallory", 0))  # stored before: counts nothing
    for reply in activities[2:5]:
        reply["object"]["inReplyTo"] = parent
    failing = activities[3]
    await _enqueue(home, peer, activities)
    surface = processor.resolver.surface
    created = surface.status_created

    async def fails_in_a_batch(status: Any, *args: Any, **kw: Any) -> Any:
        if current_batch(home.store.db) is not None and status.uri == failing["object"]["id"]:
            raise RuntimeError("after the status and its counters were written")
        return await created(status, *args, **kw)

    monkeypatch.setattr(surface, "status_created", fails_in_a_batch)
    alone = await processor.apply_batched(await _claim_all(home))

    assert [item.activity_id for item in alone] == [failing["id"]]
    mallory = await home.store.accounts.by_uri(peer.actor_uri("mallory"))
    trent = await home.store.accounts.by_uri(peer.actor_uri("trent"))
    first = await home.store.statuses.by_uri(parent)
    assert mallory is not None and mallory.statuses_count == 3
    assert trent is not None and trent.statuses_count == 3
    assert first is not None and first.replies_count == 2
    assert await processor.process(alone[0])
    trent = await home.store.accounts.by_uri(peer.actor_uri("trent"))
    first = await home.store.statuses.by_uri(parent)
    assert trent is not None and trent.statuses_count == 4
    assert first is not None and first.replies_count == 3

