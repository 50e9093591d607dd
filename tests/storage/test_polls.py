"""Poll votes: the local and the remote path count through one function."""

from __future__ import annotations

import pytest
from factories import local_account, post, remote_account

from storage.errors import Conflict, NotFound
from storage.models import Poll
from storage.statuses import NewPoll
from storage.store import Store


async def _poll(store: Store, *, multiple: bool, votes: list[int] | None) -> tuple[int, Poll]:
    author = await local_account(store, "alice")
    status = await post(store, author, "pick", poll=NewPoll(options=["a", "b", "c"], multiple=multiple, votes=votes))
    return status.id, (await store.statuses.polls_for([status.id]))[status.id]


async def _rev(store: Store, status_id: int) -> int:
    return int(await store.db.fetchval("SELECT rev FROM statuses WHERE id = $1", status_id))


async def test_a_local_vote_counts_each_choice_once_and_only_once_per_account(store: Store) -> None:
    status_id, poll = await _poll(store, multiple=True, votes=[])
    bob = await local_account(store, "bob")
    rev = await _rev(store, status_id)
    voted = await store.polls.vote(poll.id, bob.id, [2, 0, 2])
    # Stored totals shorter than the options are padded; a repeated choice counts once.
    assert voted.votes == [1, 0, 1] and voted.voters_count == 1
    assert await store.polls.get(poll.id) == voted
    assert await store.polls.votes_of(bob.id, [poll.id, poll.id]) == {poll.id: [0, 2]}
    assert await _rev(store, status_id) == rev + 1  # cached renderings retire
    with pytest.raises(Conflict):
        await store.polls.vote(poll.id, bob.id, [1])
    with pytest.raises(NotFound):
        await store.polls.vote(poll.id + 1, bob.id, [1])
    after = await store.polls.get(poll.id)
    assert after is not None and after.votes == [1, 0, 1] and after.voters_count == 1


async def test_local_and_remote_votes_move_the_same_counts(store: Store) -> None:
    _, poll = await _poll(store, multiple=False, votes=[0, 0, 0])
    bob = await local_account(store, "bob")
    mallory = await remote_account(store, "mallory")
    await store.polls.vote(poll.id, bob.id, [1])
    assert await store.polls.record_remote_vote(poll.id, mallory.id, 1)
    # A single-choice poll: a second option from the same account changes nothing.
    assert not await store.polls.record_remote_vote(poll.id, mallory.id, 2)
    after = await store.polls.get(poll.id)
    assert after is not None and after.votes == [0, 2, 0] and after.voters_count == 2
    assert await store.polls.votes_of(mallory.id, [poll.id]) == {poll.id: [1]}
    assert await store.polls.votes_of(mallory.id, []) == {}
    assert not await store.polls.record_remote_vote(poll.id + 1, mallory.id, 0)


async def test_a_remote_polls_totals_are_taken_as_sent(store: Store) -> None:
    status_id, poll = await _poll(store, multiple=False, votes=[0, 0, 0])
    rev = await _rev(store, status_id)
    await store.polls.take_remote_counts(status_id, [3, 1, 4], 8)
    after = await store.polls.get(poll.id)
    assert after is not None and after.votes == [3, 1, 4] and after.voters_count == 8
    assert await _rev(store, status_id) == rev + 1
