""" "update" notifications when a status is edited; "poll" notifications when a poll ends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from api_helpers import Actor, Api

from activitypub.urls import Urls
from fedinode.app import create_app
from fedinode.config import Config
from fedinode.federation import federator_of
from fedinode.services import polls
from fedinode.services.context import Ctx
from storage.accounts import NewAccount
from storage.ids import now_ms
from storage.statuses import NewPoll, NewStatus


def _ctx(api: Api) -> Ctx:
    return Ctx(
        store=api.store,
        config=api.config,
        urls=Urls(api.config.base_url),
        federation=federator_of(api.client.app),
    )


async def _types(actor: Actor, type_: str) -> list[dict[str, Any]]:
    return await actor.json("get", f"/api/v1/notifications?types[]={type_}")  # type: ignore[no-any-return]


async def test_edit_notifies_those_who_reblogged_or_favourited(api: Api) -> None:
    alice = await api.user("alice")
    bob, carol, dave, erin = [await api.user(n) for n in ("bob", "carol", "dave", "erin")]
    status = await alice.status("first draft")
    sid = status["id"]
    await bob.json("post", f"/api/v1/statuses/{sid}/reblog")
    await carol.json("post", f"/api/v1/statuses/{sid}/favourite")
    await dave.json("post", f"/api/v1/statuses/{sid}/bookmark")
    await bob.json("post", f"/api/v1/statuses/{sid}/favourite")  # both: told once
    await alice.json("post", f"/api/v1/statuses/{sid}/favourite")  # the author: not told
    await alice.json("put", f"/api/v1/statuses/{sid}", json={"status": "final text"})

    for actor in (bob, carol):
        updates = await _types(actor, "update")
        assert len(updates) == 1, actor.account.username
        assert updates[0]["account"]["id"] == alice.id
        assert updates[0]["status"]["id"] == sid
        assert "final text" in updates[0]["status"]["content"]
    for actor in (dave, erin, alice):
        assert await _types(actor, "update") == [], actor.account.username


async def _expire(api: Api, status_id: str, when: int) -> None:
    await api.store.db.execute(
        "UPDATE polls SET expires_at = $1 WHERE status_id = $2", when, int(status_id)
    )


async def test_poll_end_notifies_local_voters_and_author_once(api: Api) -> None:
    alice = await api.user("alice")
    bob, carol, dave = [await api.user(n) for n in ("bob", "carol", "dave")]
    status = await alice.status(
        "tea or coffee?", poll={"options": ["tea", "coffee"], "expires_in": 600}
    )
    poll_id = status["poll"]["id"]
    await bob.json("post", f"/api/v1/polls/{poll_id}/votes", json={"choices": [0]})
    await carol.json("post", f"/api/v1/polls/{poll_id}/votes", json={"choices": [1]})
    await dave.json("post", f"/api/v1/accounts/{alice.id}/follow")  # no vote, no notice
    other = await alice.status("later", poll={"options": ["a", "b"], "expires_in": 600})
    await bob.json("post", f"/api/v1/polls/{other['poll']['id']}/votes", json={"choices": [0]})

    assert await polls.announce_ended(_ctx(api)) == 0  # nothing has closed yet
    await _expire(api, status["id"], now_ms() - 1000)
    assert await polls.announce_ended(_ctx(api)) == 1
    for actor in (alice, bob, carol):
        notes = await _types(actor, "poll")
        assert [n["status"]["id"] for n in notes] == [status["id"]], actor.account.username
        assert notes[0]["account"]["id"] == alice.id
        assert notes[0]["status"]["poll"]["expired"] is True
    assert await _types(dave, "poll") == []
    # Announced once: the mark is in the database, not in the sweeper's memory.
    assert await polls.announce_ended(_ctx(api)) == 0
    assert len(await _types(bob, "poll")) == 1


async def test_remote_poll_end_notifies_local_voters_only(api: Api) -> None:
    bob = await api.user("bob")
    eve = await api.store.accounts.create(
        NewAccount(username="eve", domain="remote.test", uri="https://remote.test/users/eve")
    )
    created = await api.store.statuses.create(
        NewStatus(
            account_id=eve.id,
            local=False,
            uri="https://remote.test/notes/1",
            content="<p>remote poll</p>",
            poll=NewPoll(options=["x", "y"], expires_at=now_ms() + 600_000),
        )
    )
    poll = (await api.store.statuses.polls_for([created.id]))[created.id]
    await api.store.polls.vote(poll.id, bob.account.id, [1])
    await _expire(api, str(created.id), now_ms() - 1)
    assert await polls.announce_ended(_ctx(api)) == 1
    notes = await _types(bob, "poll")
    assert [(n["account"]["id"], n["status"]["id"]) for n in notes] == [
        (str(eve.id), str(created.id))
    ]


async def test_running_instance_announces_a_closing_poll(
    aiohttp_client: Any, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Set before the app starts, so the sweeper never sleeps longer than this.
    monkeypatch.setattr(polls, "SWEEP_SECONDS", 0.05)
    api = Api(client=await aiohttp_client(create_app(config)), config=config)
    alice, bob = await api.user("alice"), await api.user("bob")
    status = await alice.status("quick?", poll={"options": ["y", "n"], "expires_in": 300})
    await bob.json("post", f"/api/v1/polls/{status['poll']['id']}/votes", json={"choices": [0]})
    await _expire(api, status["id"], now_ms() + 200)
    for _ in range(200):
        if await _types(bob, "poll"):
            break
        await asyncio.sleep(0.05)
    assert [n["status"]["id"] for n in await _types(bob, "poll")] == [status["id"]]
    assert len(await _types(alice, "poll")) == 1
