"""A local interaction whose delivery was not enqueued (the process died, or the enqueue
failed, right after the change was committed) is sent from the database by the worker, to
the right inbox, once: on a real instance, on SQLite and PostgreSQL.

The crash is the Federator raising after the state change committed; the replay is the
worker's pass over intents past their grace time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from federation.conftest import Instance, free_port
from remote_peer import FakePeer, start_peer

from activitypub.urls import Urls
from fedinode import appkeys
from fedinode.services import accounts, admin, follows, polls, reports, statuses
from fedinode.services.context import Ctx
from fedinode.services.federator import NoFederation
from storage import effects, intents
from storage.accounts import NewAccount
from storage.ids import now_ms
from storage.models import Account, Status
from storage.statuses import NewPoll, NewStatus


class Crash(Exception):
    """The process dying right after the change was committed."""


class Dies(NoFederation):
    """Every outgoing change fails (after the use case committed it)."""

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("resolve_"):
            return object.__getattribute__(self, name)

        async def dies(*args: Any) -> None:
            raise Crash(name)

        return dies


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    p = await start_peer({"carol": 0})
    yield p
    await p.server.close()


@pytest.fixture
async def home(database_url: str, tmp_path: Path) -> AsyncIterator[Instance]:
    instance = Instance("home", free_port(), database_url, tmp_path)
    await instance.start()
    yield instance
    await instance.stop()


async def _carol(home: Instance, peer: FakePeer) -> Account:
    return await home.store.accounts.create(
        NewAccount(username="carol", domain=peer.domain, uri=peer.actor_uri("carol"),
                   inbox_url=f"{peer.actor_uri('carol')}/inbox",
                   shared_inbox_url=f"http://{peer.domain}/inbox")
    )  # fmt: skip


async def _carols_note(home: Instance, carol: Account) -> Status:
    return await home.store.statuses.create(
        NewStatus(account_id=carol.id, local=False, uri=f"{carol.uri}/statuses/1",
                  content="<p>hi</p>", text="hi")
    )  # fmt: skip


def _ctx(home: Instance, federation: NoFederation) -> Ctx:
    return Ctx(home.store, home.config, Urls(f"http://{home.domain}"), federation=federation)


async def _sent(home: Instance, sender: Account) -> list[tuple[str, str]]:
    """(activity id, inbox) of every delivery row ``sender`` has."""
    rows = await home.store.db.fetch(
        "SELECT activity_id, inbox_url FROM delivery_queue WHERE sender_account_id = $1"
        " ORDER BY id",
        sender.id,
    )
    return [(str(r["activity_id"]), str(r["inbox_url"])) for r in rows]


async def _replay(home: Instance) -> int:
    """The worker's pass, with every intent past its grace time."""
    await home.store.db.execute("UPDATE federation_intents SET next_attempt_at = 0")
    return await home.fed.intents.run_due()


async def _crash(call: Awaitable[object]) -> None:
    with pytest.raises(Crash):
        await call


Step = Callable[[Ctx], Awaitable[object]]


async def _crash_replay_check(
    home: Instance, alice: Account, step: Step, kind: str, inbox: str, *, again: bool = True
) -> str:
    """``step`` dies after its commit; its intent is there; the replay writes one delivery
    row, to ``inbox`` (its activity id is returned), and a second replay (or the intent
    replayed again) adds nothing."""
    earlier = await _sent(home, alice)
    before = len(earlier)
    await _crash(step(_ctx(home, Dies())))
    (intent,) = await home.store.intents.pending()
    assert intent.kind == kind and intent.account_id == alice.id
    assert len(await _sent(home, alice)) == before
    assert await _replay(home) == 1
    assert await home.store.intents.pending() == []
    # The rows this replay wrote (by content: an id made in another process slot of this
    # test process may sort before the earlier rows' in the same millisecond).
    sent = [row for row in await _sent(home, alice) if row not in earlier]
    assert [i for _, i in sent] == [inbox]
    if again:
        # Taken again (as after a crash between the enqueue and the delete): nothing twice.
        await home.fed.intents.replay(intent)
    assert await _replay(home) == 0
    assert len(await _sent(home, alice)) == before + 1
    return sent[0][0]


async def test_favourite_and_unfavourite_are_sent_from_the_database(
    home: Instance, peer: FakePeer
) -> None:
    alice = await home.user("alice")
    carol = await _carol(home, peer)
    note = await _carols_note(home, carol)
    inbox = f"http://{peer.domain}/inbox"

    like = await _crash_replay_check(
        home, alice, lambda c: statuses.favourite(c, alice, note.id), intents.FAVOURITE, inbox
    )
    fav = await home.store.interactions.get_favourite(alice.id, note.id)
    assert fav is not None and like == fav.uri
    undo = await _crash_replay_check(
        home, alice, lambda c: statuses.unfavourite(c, alice, note.id), intents.UNFAVOURITE, inbox
    )
    assert undo == f"{fav.uri}/undo"
    assert await home.store.interactions.get_favourite(alice.id, note.id) is None


async def test_follow_and_unfollow_are_sent_from_the_database(
    home: Instance, peer: FakePeer
) -> None:
    alice = await home.user("alice")
    carol = await _carol(home, peer)
    inbox = f"{carol.uri}/inbox"

    def follow(c: Ctx) -> Awaitable[object]:
        return follows.follow(c, alice, carol, reblogs=None, notify_posts=None)

    sent = await _crash_replay_check(home, alice, follow, intents.FOLLOW, inbox)
    request = await home.store.relationships.get_request(alice.id, carol.id)
    assert request is not None and sent == request.uri
    undo = await _crash_replay_check(
        home, alice, lambda c: follows.unfollow(c, alice, carol), intents.UNFOLLOW, inbox
    )
    assert undo == f"{request.uri}/undo"


async def test_block_and_unblock_are_sent_from_the_database(home: Instance, peer: FakePeer) -> None:
    alice = await home.user("alice")
    carol = await _carol(home, peer)
    inbox = f"{carol.uri}/inbox"

    sent = await _crash_replay_check(
        home, alice, lambda c: follows.block(c, alice, carol), intents.BLOCK, inbox
    )
    block = await home.store.relationships.get_block(alice.id, carol.id)
    assert block is not None and sent == block.uri
    undo = await _crash_replay_check(
        home, alice, lambda c: follows.unblock(c, alice, carol), intents.UNBLOCK, inbox
    )
    assert undo == f"{block.uri}/undo"


async def test_a_change_that_never_committed_sends_nothing(home: Instance, peer: FakePeer) -> None:
    alice = await home.user("alice")
    carol = await _carol(home, peer)
    note = await _carols_note(home, carol)
    # The intents were written, then the process died before each change.
    store = home.store
    await store.intents.add(intents.FAVOURITE, alice.id, note.id, "http://x/likes/1")
    await store.intents.add(intents.FOLLOW, alice.id, carol.id, "http://x/follows/1")
    await store.intents.add(intents.BLOCK, alice.id, carol.id, "http://x/blocks/1")
    assert await _replay(home) == 3
    assert await _sent(home, alice) == []
    assert await store.intents.pending() == []


async def test_an_intent_waits_for_its_grace_time_and_a_finished_one_is_gone(
    home: Instance, peer: FakePeer
) -> None:
    alice = await home.user("alice")
    carol = await _carol(home, peer)
    note = await _carols_note(home, carol)
    assert home.app is not None
    real = Ctx(home.store, home.config, home.urls, federation=home.app[appkeys.FEDERATOR])
    await statuses.favourite(real, alice, note.id)
    assert await home.store.intents.pending() == []
    fav = await home.store.interactions.get_favourite(alice.id, note.id)
    assert fav is not None and [a for a, _ in await _sent(home, alice)] == [fav.uri]
    # An intent inside its grace time is the use case's, not the worker's.
    await home.store.intents.add(intents.UNFAVOURITE, alice.id, note.id, "http://x/likes/1")
    assert await home.fed.intents.run_due() == 0


async def _post(home: Instance, alice: Account, text: str) -> Status:
    data = statuses.StatusInput(text=text, media_ids=[], poll=None, in_reply_to_id=None,
                                sensitive=False, spoiler_text="", visibility="public",
                                language=None)  # fmt: skip
    return await statuses.post_status(_ctx(home, NoFederation()), alice, data, application_id=None,
                                         idempotency_key=None)  # fmt: skip


async def test_delete_and_unreblog_are_sent_from_the_database(
    home: Instance, peer: FakePeer
) -> None:
    alice = await home.user("alice")
    carol = await _carol(home, peer)
    await home.store.relationships.follow(carol.id, alice.id)
    shared = f"http://{peer.domain}/inbox"
    mine = await _post(home, alice, "soon gone")

    sent = await _crash_replay_check(
        home, alice, lambda c: statuses.delete_status(c, alice, mine.id), intents.DELETE_STATUS,
        shared,
    )  # fmt: skip
    assert sent == f"{mine.uri}#delete"
    assert await home.store.statuses.get(mine.id) is None

    note = await _carols_note(home, carol)
    await statuses.reblog(_ctx(home, NoFederation()), alice, note.id, None)
    wrapper = await home.store.statuses.reblog_by(alice.id, note.id)
    assert wrapper is not None
    undo = await _crash_replay_check(
        home, alice, lambda c: statuses.unreblog(c, alice, note.id), intents.DELETE_STATUS, shared
    )
    assert undo == f"{wrapper.uri}#undo"
    assert await home.store.statuses.reblog_by(alice.id, note.id) is None


async def test_a_delete_that_never_committed_sends_nothing(home: Instance, peer: FakePeer) -> None:
    alice = await home.user("alice")
    carol = await _carol(home, peer)
    await home.store.relationships.follow(carol.id, alice.id)
    mine = await _post(home, alice, "still here")
    await home.store.intents.add(
        intents.DELETE_STATUS, alice.id, mine.id, mine.uri,
        payload=intents.deleted_status(mine, []),
    )  # fmt: skip
    assert await _replay(home) == 1
    assert await _sent(home, alice) == []
    assert await home.store.statuses.get(mine.id) is not None


def _an_hour_on() -> int:
    return now_ms() + 3_600_000


async def test_a_closed_polls_final_tallies_are_sent_from_the_database(
    home: Instance, peer: FakePeer
) -> None:
    alice = await home.user("alice")
    carol = await _carol(home, peer)
    await home.store.relationships.follow(carol.id, alice.id)
    data = statuses.StatusInput(text="tea or coffee?", media_ids=[], in_reply_to_id=None,
                                poll=statuses.PollInput(options=["tea", "coffee"], expires_in=600),
                                sensitive=False, spoiler_text="", visibility="public",
                                language=None)  # fmt: skip
    asked = await statuses.post_status(
        _ctx(home, NoFederation()), alice, data, application_id=None, idempotency_key=None
    )
    # An hour later (the sweeper's clock is not there yet): the poll is closed, and its
    # voters told, in one commit; sending its tallies dies.
    await _crash(polls.announce_ended(_ctx(home, Dies()), now=_an_hour_on()))
    assert await home.store.polls.next_due() is None
    assert await home.store.effects.of(asked.id) == [effects.POLL_ENDED]
    assert await _sent(home, alice) == []
    await home.store.db.execute("UPDATE pending_effects SET next_attempt_at = 0")
    assert await home.fed.processor.effects.run_due() == 1
    sent = await _sent(home, alice)
    assert [i for _, i in sent] == [f"http://{peer.domain}/inbox"]
    assert sent[0][0].startswith(f"{asked.uri}#updates/")
    assert await home.store.effects.of(asked.id) == []
    assert await home.fed.processor.effects.run_due() == 0
    assert len(await _sent(home, alice)) == 1


async def test_a_poll_closed_without_a_crash_owes_nothing(home: Instance, peer: FakePeer) -> None:
    alice = await home.user("alice")
    data = statuses.StatusInput(text="a or b?", media_ids=[], in_reply_to_id=None,
                                poll=statuses.PollInput(options=["a", "b"], expires_in=600),
                                sensitive=False, spoiler_text="", visibility="public",
                                language=None)  # fmt: skip
    asked = await statuses.post_status(
        _ctx(home, NoFederation()), alice, data, application_id=None, idempotency_key=None
    )
    assert await polls.announce_ended(_ctx(home, NoFederation()), now=_an_hour_on()) == 1
    assert await home.store.effects.of(asked.id) == []


async def test_accepting_rejecting_and_removing_a_follower_are_sent_from_the_database(
    home: Instance, peer: FakePeer
) -> None:
    alice = await home.user("alice", locked=True)
    carol = await _carol(home, peer)
    inbox = f"{carol.uri}/inbox"
    rel = home.store.relationships
    # An Accept or Reject carries a fresh id each time (a peer may ask again with the same
    # Follow), so only the replay of an unfinished intent is checked here.
    await rel.request(carol.id, alice.id, uri=f"{carol.uri}#follows/1")
    accept = await _crash_replay_check(
        home, alice, lambda c: follows.authorize_request(c, alice, carol),
        intents.ACCEPT_FOLLOW, inbox, again=False,
    )  # fmt: skip
    assert accept.startswith(f"{alice.uri}#accepts/follows/")
    assert await rel.get_follow(carol.id, alice.id) is not None
    removed = await _crash_replay_check(
        home, alice, lambda c: follows.remove_from_followers(c, alice, carol),
        intents.REJECT_FOLLOW, inbox, again=False,
    )  # fmt: skip
    assert removed.startswith(f"{alice.uri}#rejects/follows/")
    assert await rel.get_follow(carol.id, alice.id) is None
    await rel.request(carol.id, alice.id, uri=f"{carol.uri}#follows/2")
    rejected = await _crash_replay_check(
        home, alice, lambda c: follows.reject_request(c, alice, carol),
        intents.REJECT_FOLLOW, inbox, again=False,
    )  # fmt: skip
    assert rejected.startswith(f"{alice.uri}#rejects/follows/")
    assert await rel.get_request(carol.id, alice.id) is None


async def test_an_accept_that_never_committed_sends_nothing(home: Instance, peer: FakePeer) -> None:
    alice = await home.user("alice", locked=True)
    carol = await _carol(home, peer)
    await home.store.relationships.request(carol.id, alice.id, uri=f"{carol.uri}#follows/1")
    await home.store.intents.add(
        intents.ACCEPT_FOLLOW, alice.id, carol.id, f"{carol.uri}#follows/1"
    )
    await home.store.intents.add(
        intents.REJECT_FOLLOW, alice.id, carol.id, f"{carol.uri}#follows/1"
    )
    assert await _replay(home) == 2
    assert await _sent(home, alice) == []


async def test_a_profile_change_is_sent_from_the_database(home: Instance, peer: FakePeer) -> None:
    alice = await home.user("alice")
    carol = await _carol(home, peer)
    await home.store.relationships.follow(carol.id, alice.id)
    user = await home.store.users.by_account(alice.id)
    assert user is not None
    change = accounts.ProfileUpdate(display_name="Alice A.")
    sent = await _crash_replay_check(
        home, alice, lambda c: accounts.update_credentials(c, user, alice, change),
        intents.PROFILE, f"http://{peer.domain}/inbox", again=False,
    )  # fmt: skip
    assert sent.startswith(f"{alice.uri}#updates/")
    fresh = await home.store.accounts.get(alice.id)
    assert fresh is not None and fresh.display_name == "Alice A."


async def test_a_vote_on_a_remote_poll_is_sent_from_the_database(
    home: Instance, peer: FakePeer
) -> None:
    alice = await home.user("alice")
    carol = await _carol(home, peer)
    question = await home.store.statuses.create(
        NewStatus(account_id=carol.id, local=False, uri=f"{carol.uri}/statuses/2",
                  content="<p>a or b?</p>", text="a or b?",
                  poll=NewPoll(options=["a", "b"], expires_at=_an_hour_on()))
    )  # fmt: skip
    poll = (await home.store.statuses.polls_for([question.id]))[question.id]
    sent = await _crash_replay_check(
        home, alice, lambda c: statuses.vote(c, alice, poll.id, [1]), intents.POLL_VOTE,
        f"http://{peer.domain}/inbox",
    )  # fmt: skip
    assert sent == f"{alice.uri}#votes/{poll.id}/1/activity"
    # A vote that never committed (the intent alone) sends nothing.
    await home.store.intents.add(intents.POLL_VOTE, carol.id, question.id, None)
    bob = await home.user("bob")
    await home.store.intents.add(intents.POLL_VOTE, bob.id, question.id, None)
    assert await _replay(home) == 2
    assert await _sent(home, bob) == []


async def test_a_forwarded_report_is_sent_from_the_database(home: Instance, peer: FakePeer) -> None:
    alice = await home.user("alice")
    carol = await _carol(home, peer)
    instance = home.fed.instance_actor()
    await _crash(reports.create_report(_ctx(home, Dies()), alice, carol.id, comment="spam",
                                       forward=True))  # fmt: skip
    (intent,) = await home.store.intents.pending()
    assert intent.kind == intents.REPORT and intent.account_id == alice.id
    report = await home.store.reports.get(intent.target_id)
    assert report is not None and report.forwarded and report.target_account_id == carol.id
    assert await _sent(home, instance) == []
    assert await _replay(home) == 1
    flag = f"{instance.uri}#reports/{report.id}"
    assert await _sent(home, instance) == [(flag, f"http://{peer.domain}/inbox")]
    await home.fed.intents.replay(intent)
    assert len(await _sent(home, instance)) == 1
    # A report that was never stored (the intent alone) sends nothing.
    await home.store.intents.add(intents.REPORT, alice.id, 12345, None)
    assert await _replay(home) == 1
    assert len(await _sent(home, instance)) == 1


async def test_a_moderators_deletion_of_local_posts_is_sent_from_the_database(
    home: Instance, peer: FakePeer
) -> None:
    alice = await home.user("alice")
    mod = await home.user("mod", admin=True)
    carol = await _carol(home, peer)
    await home.store.relationships.follow(carol.id, alice.id)
    mine = await _post(home, alice, "against the rules")
    await home.store.accounts.update(alice.id, suspended=True)
    sent = await _crash_replay_check(
        home, alice, lambda c: admin.delete_data(c, mod, alice.id), intents.DELETE_STATUS,
        f"http://{peer.domain}/inbox",
    )  # fmt: skip
    assert sent == f"{mine.uri}#delete"
