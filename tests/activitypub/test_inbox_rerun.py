"""An inbox activity run again after the process died between its first write and its side
effects completes what is missing, once: on a real instance, on SQLite and PostgreSQL.

The crash is the side-effects call raising after the change was committed (what kill -9
at that point leaves in the database); the re-run is the same activity applied again, as
the queue does when the row's lease runs out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from federation.conftest import Instance, free_port
from remote_peer import FakePeer, start_peer

from activitypub.urls import Urls
from fedinode.services import statuses as status_service
from fedinode.services.context import Ctx
from fedinode.services.federator import NoFederation
from fedinode.services.surface import SideEffects
from storage.accounts import NewAccount
from storage.models import Account, Notification, Status
from storage.paging import Page

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


class Crash(Exception):
    """The process dying right after the change was committed."""


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    p = await start_peer({"mallory": 0})
    yield p
    await p.server.close()


@pytest.fixture
async def home(database_url: str, tmp_path: Path) -> AsyncIterator[Instance]:
    instance = Instance("home", free_port(), database_url, tmp_path)
    await instance.start()
    yield instance
    await instance.stop()


async def _notifications(home: Instance, account: Account, type_: str) -> list[Notification]:
    rows = await home.store.notifications.list(account.id, Page(limit=40))
    return [n for n in rows if n.type == type_]


async def _crash_then_rerun(
    home: Instance, monkeypatch: pytest.MonkeyPatch, method: str, activity: dict[str, Any]
) -> None:
    """Apply ``activity`` with ``SideEffects.<method>`` dying, then twice more for real."""
    real = getattr(SideEffects, method)

    async def dies(self: SideEffects, *args: Any, **kwargs: Any) -> None:
        raise Crash(method)

    monkeypatch.setattr(SideEffects, method, dies)
    with pytest.raises(Crash):
        await home.fed.processor.apply(activity)
    monkeypatch.setattr(SideEffects, method, real)
    await home.fed.processor.apply(activity)
    await home.fed.processor.apply(activity)


def _note(peer: FakePeer, home: Instance, n: int, mention: Account) -> dict[str, Any]:
    uri = peer.actor_uri("mallory")
    note_id = f"{uri}/statuses/{n}"
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": uri,
        "to": [PUBLIC],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": uri,
            "content": f"<p>hi @{mention.username}</p>",
            "to": [PUBLIC],
            "cc": [mention.uri],
            "tag": [{"type": "Mention", "href": mention.uri, "name": f"@{mention.username}"}],
            "published": "2026-01-01T00:00:00Z",
        },
    }


async def test_create_run_again_after_a_crash_notifies_the_mention_once(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await home.user("alice")
    activity = _note(peer, home, 1, alice)
    await _crash_then_rerun(home, monkeypatch, "status_created", activity)
    status = await home.store.statuses.by_uri(activity["object"]["id"])
    assert status is not None
    mentions = await _notifications(home, alice, "mention")
    assert [n.status_id for n in mentions] == [status.id]


async def test_announce_run_again_after_a_crash_notifies_the_author_once(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await home.user("alice")
    original = await home.post(alice, "reblog me")
    uri = peer.actor_uri("mallory")
    announce = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{uri}/announces/1",
        "type": "Announce",
        "actor": uri,
        "object": original.uri,
        "to": [PUBLIC],
        "cc": [alice.uri],
    }
    await _crash_then_rerun(home, monkeypatch, "reblogged", announce)
    reblogs = await _notifications(home, alice, "reblog")
    assert [n.status_id for n in reblogs] == [original.id]
    fresh = await home.store.statuses.get(original.id)
    assert fresh is not None and fresh.reblogs_count == 1


async def test_like_run_again_after_a_crash_notifies_the_author_once(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await home.user("alice")
    original = await home.post(alice, "like me")
    uri = peer.actor_uri("mallory")
    like = {"id": f"{uri}/likes/1", "type": "Like", "actor": uri, "object": original.uri}
    await _crash_then_rerun(home, monkeypatch, "favourited", like)
    favourites = await _notifications(home, alice, "favourite")
    assert [n.status_id for n in favourites] == [original.id]


@pytest.mark.parametrize("locked", [False, True], ids=["open", "locked"])
async def test_follow_run_again_after_a_crash_notifies_the_target_once(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch, locked: bool
) -> None:
    alice = await home.user("alice", locked=locked)
    uri = peer.actor_uri("mallory")
    follow = {"id": f"{uri}/follows/1", "type": "Follow", "actor": uri, "object": alice.uri}
    method = "follow_requested" if locked else "followed"
    await _crash_then_rerun(home, monkeypatch, method, follow)
    kind = "follow_request" if locked else "follow"
    assert len(await _notifications(home, alice, kind)) == 1


async def test_update_run_again_after_a_crash_tells_a_favouriter_once(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await home.user("alice")
    create = _note(peer, home, 7, alice)
    await home.fed.processor.apply(create)
    status = await home.store.statuses.by_uri(create["object"]["id"])
    assert status is not None
    await home.store.interactions.favourite(alice.id, status.id)
    update = dict(create)
    update["id"] = f"{create['object']['id']}#updates/1"
    update["type"] = "Update"
    update["object"] = {**create["object"], "content": "<p>edited</p>",
                        "updated": "2026-01-01T00:05:00Z"}  # fmt: skip
    await _crash_then_rerun(home, monkeypatch, "status_updated", update)
    edited = await home.store.statuses.get(status.id)
    assert edited is not None and "edited" in edited.content
    assert len(await _notifications(home, alice, "update")) == 1


async def _remote_follower(home: Instance, peer: FakePeer, followed: Account) -> None:
    carol = await home.store.accounts.create(
        NewAccount(username="carol", domain=peer.domain, uri=peer.actor_uri("carol"),
                   inbox_url=f"{peer.actor_uri('carol')}/inbox",
                   shared_inbox_url=f"http://{peer.domain}/inbox")
    )  # fmt: skip
    await home.store.relationships.follow(carol.id, followed.id)


class Unreachable(NoFederation):
    async def status_created(self, status: Status, author: Account | None = None) -> None:
        raise Crash("enqueue failed")


async def test_a_local_post_whose_side_effects_failed_is_completed_from_the_database(
    home: Instance, peer: FakePeer
) -> None:
    alice = await home.user("alice")
    bob = await home.user("bob")
    await _remote_follower(home, peer, alice)
    ctx = Ctx(home.store, home.config, Urls(f"http://{home.domain}"), federation=Unreachable())
    data = status_service.StatusInput(text="hello @bob", media_ids=[], poll=None, in_reply_to_id=None,
                                      sensitive=False, spoiler_text="", visibility="public",
                                      language=None)  # fmt: skip
    with pytest.raises(Crash):
        await status_service.post_status(ctx, alice, data, application_id=None,
                                         idempotency_key="k1")  # fmt: skip
    posted = await home.store.statuses.account_statuses(alice.id, alice.id, Page())
    assert len(posted) == 1
    status = posted[0]
    # Committed with the status: its Idempotency-Key and the mark that its delivery is owed.
    assert await home.store.statuses.idempotent_status(alice.id, "k1") == status.id
    assert await home.store.effects.of(status.id) == ["created"]
    # The worker completes it: the remote follower gets its delivery, bob his one mention.
    await home.fed.processor.effects.complete(status.id, "created")
    await home.fed.processor.effects.complete(status.id, "created")
    deliveries = await home.store.queues.deliveries_for(f"{status.uri}/activity")
    assert [d.inbox_url for d in deliveries] == [f"http://{peer.domain}/inbox"]
    assert len(await _notifications(home, bob, "mention")) == 1
    assert await home.store.effects.of(status.id) == []


async def test_marks_left_past_their_time_are_taken_by_the_worker(
    home: Instance, peer: FakePeer
) -> None:
    alice = await home.user("alice")
    await _remote_follower(home, peer, alice)
    ctx = Ctx(home.store, home.config, Urls(f"http://{home.domain}"), federation=Unreachable())
    data = status_service.StatusInput(text="to my followers", media_ids=[], poll=None,
                                      in_reply_to_id=None, sensitive=False, spoiler_text="",
                                      visibility="public", language=None)  # fmt: skip
    with pytest.raises(Crash):
        await status_service.post_status(ctx, alice, data, application_id=None,
                                         idempotency_key=None)  # fmt: skip
    (status,) = await home.store.statuses.account_statuses(alice.id, alice.id, Page())
    effects = home.fed.processor.effects
    # Within its grace time the mark belongs to the code that wrote it.
    assert await effects.run_due() == 0
    await home.store.db.execute("UPDATE pending_effects SET next_attempt_at = 0")
    assert await effects.run_due() == 1
    deliveries = await home.store.queues.deliveries_for(f"{status.uri}/activity")
    assert [d.inbox_url for d in deliveries] == [f"http://{peer.domain}/inbox"]
    assert await home.store.effects.count() == 0


async def test_a_remote_vote_run_again_after_a_crash_still_sends_the_new_counts(
    home: Instance, peer: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await home.user("alice")
    ctx = Ctx(home.store, home.config, Urls(f"http://{home.domain}"))
    poll = status_service.PollInput(options=["tea", "coffee"], expires_in=3600)
    data = status_service.StatusInput(text="tea or coffee?", media_ids=[], poll=poll,
                                      in_reply_to_id=None, sensitive=False, spoiler_text="",
                                      visibility="public", language=None)  # fmt: skip
    status = await status_service.post_status(ctx, alice, data, application_id=None,
                                              idempotency_key=None)  # fmt: skip
    uri = peer.actor_uri("mallory")
    vote = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{uri}/votes/1/activity",
        "type": "Create",
        "actor": uri,
        "to": [alice.uri],
        "object": {"id": f"{uri}/votes/1", "type": "Note", "name": "coffee",
                   "attributedTo": uri, "inReplyTo": status.uri, "to": [alice.uri]},
    }  # fmt: skip
    outbox = type(home.fed.outbox)
    real = outbox.poll_votes_changed

    async def dies(self: Any, changed: Status) -> None:
        raise Crash("poll_votes_changed")

    monkeypatch.setattr(outbox, "poll_votes_changed", dies)
    with pytest.raises(Crash):
        await home.fed.processor.apply(vote)
    monkeypatch.setattr(outbox, "poll_votes_changed", real)
    await home.fed.processor.apply(vote)
    # The update is owed in the database; this process "dies" before its timer fires.
    assert await home.store.effects.of(status.id) == ["poll_counts"]
    for handle in home.fed.outbox._poll_updates.values():
        handle.cancel()
    home.fed.outbox._poll_updates.clear()
    await home.store.db.execute("UPDATE pending_effects SET next_attempt_at = 0")
    assert await home.fed.processor.effects.run_due() == 1
    sent = await home.store.db.fetch(
        "SELECT inbox_url FROM delivery_queue WHERE activity_id LIKE '%#updates/polls/%'"
    )
    assert [r["inbox_url"] for r in sent] == [f"http://{peer.domain}/inbox"]
    counted = await home.store.statuses.polls_for([status.id])
    assert counted[status.id].votes == [0, 1]
