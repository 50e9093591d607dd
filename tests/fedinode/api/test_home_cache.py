"""The home timeline renders statuses from an in-process cache (services.render_cache): it
never shows an old edit, a deleted status, old counters or an old profile, and renders
exactly what the uncached path renders."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from api_helpers import Actor, Api

from activitypub.urls import Urls
from fedinode.api import pages, schemas
from fedinode.services.context import Ctx
from fedinode.services.filters import filter_views
from fedinode.services.timelines import drop_hidden
from fedinode.services.views import load_status_views
from storage.paging import Page

HOME = "/api/v1/timelines/home"


async def _home(actor: Actor, **params: Any) -> list[dict[str, Any]]:
    return await actor.json("get", HOME, params=params)  # type: ignore[no-any-return]


async def _pair(api: Api) -> tuple[Actor, Actor]:
    alice = await api.user("alice")
    bob = await api.user("bob")
    await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    return alice, bob


async def test_edit_shows_at_once(api: Api) -> None:
    alice, bob = await _pair(api)
    status = await alice.status("first words")
    for _ in range(2):  # the second read is served from the cache
        assert [s["content"] for s in await _home(bob)] == ["<p>first words</p>"]
    await alice.json("put", f"/api/v1/statuses/{status['id']}", json={"status": "second words"})
    for viewer in (bob, alice):
        (shown,) = await _home(viewer)
        assert shown["content"] == "<p>second words</p>"
        assert shown["edited_at"] is not None


async def test_delete_is_gone_at_once(api: Api) -> None:
    alice, bob = await _pair(api)
    keep = await alice.status("stays")
    gone = await alice.status("goes")
    assert [s["id"] for s in await _home(bob)] == [gone["id"], keep["id"]]
    await alice.json("delete", f"/api/v1/statuses/{gone['id']}")
    assert [s["id"] for s in await _home(bob)] == [keep["id"]]


async def test_counters_and_marks_follow_interactions(api: Api) -> None:
    alice, bob = await _pair(api)
    carol = await api.user("carol")
    status = await alice.status("count me")
    (before,) = await _home(bob)
    assert (before["favourites_count"], before["favourited"]) == (0, False)
    await carol.json("post", f"/api/v1/statuses/{status['id']}/favourite")
    (after,) = await _home(bob)
    assert (after["favourites_count"], after["favourited"]) == (1, False)
    await bob.json("post", f"/api/v1/statuses/{status['id']}/favourite")
    await bob.json("post", f"/api/v1/statuses/{status['id']}/bookmark")
    (mine,) = await _home(bob)
    assert (mine["favourites_count"], mine["favourited"], mine["bookmarked"]) == (2, True, True)
    (theirs,) = await _home(alice)
    assert (theirs["favourites_count"], theirs["favourited"], theirs["bookmarked"]) == (
        2,
        False,
        False,
    )
    await bob.status("a reply", in_reply_to_id=status["id"])
    shown = {s["id"]: s for s in await _home(bob)}
    assert shown[status["id"]]["replies_count"] == 1


async def test_profile_update_shows_at_once(api: Api) -> None:
    alice, bob = await _pair(api)
    await alice.status("hello")
    (before,) = await _home(bob)
    assert before["account"]["display_name"] == ""
    await alice.json("patch", "/api/v1/accounts/update_credentials", json={"display_name": "Al"})
    (after,) = await _home(bob)
    assert after["account"]["display_name"] == "Al"
    await alice.status("again")
    newest, _ = await _home(bob)
    assert newest["account"]["statuses_count"] == 2


async def test_a_mentioned_accounts_new_url_or_removal_shows_at_once(api: Api) -> None:
    from tests.storage.factories import remote_account

    alice, bob = await _pair(api)
    dave = await remote_account(api.store, "dave", "remote.test")
    await alice.status("hi @dave@remote.test")
    for _ in range(2):  # the second read is served from the cache
        (shown,) = await _home(bob)
        assert [(m["acct"], m["url"]) for m in shown["mentions"]] == [
            ("dave@remote.test", dave.url or dave.uri)
        ]
    await api.store.accounts.update(dave.id, display_name="Dave")  # not what a mention shows
    await api.store.accounts.update(dave.id, url="https://remote.test/@dave-moved")
    (shown,) = await _home(bob)
    assert [m["url"] for m in shown["mentions"]] == ["https://remote.test/@dave-moved"]
    await api.store.accounts.delete(dave.id)
    (shown,) = await _home(bob)
    assert shown["mentions"] == []


async def test_poll_votes_show_at_once(api: Api) -> None:
    alice, bob = await _pair(api)
    status = await alice.status("pick one", poll={"options": ["a", "b"], "expires_in": 3600})
    (before,) = await _home(bob)
    assert before["poll"]["voted"] is False
    assert [o["votes_count"] for o in before["poll"]["options"]] == [0, 0]
    await bob.json("post", f"/api/v1/polls/{status['poll']['id']}/votes", json={"choices": [1]})
    (after,) = await _home(bob)
    assert after["poll"]["voted"] is True and after["poll"]["own_votes"] == [1]
    assert [o["votes_count"] for o in after["poll"]["options"]] == [0, 1]
    (theirs,) = await _home(alice)
    assert theirs["poll"]["own_votes"] == [] and theirs["poll"]["voted"] is True


async def test_reblogs_follow_their_target(api: Api) -> None:
    alice, bob = await _pair(api)
    carol = await api.user("carol")
    original = await carol.status("worth sharing")
    reblog = await alice.json("post", f"/api/v1/statuses/{original['id']}/reblog")
    (row,) = await _home(bob)
    assert row["id"] == reblog["id"] and row["reblog"]["id"] == original["id"]
    await carol.json("put", f"/api/v1/statuses/{original['id']}", json={"status": "edited"})
    (row,) = await _home(bob)
    assert row["reblog"]["content"] == "<p>edited</p>"
    await bob.json("post", f"/api/v1/statuses/{original['id']}/favourite")
    (row,) = await _home(bob)
    assert row["favourited"] is True and row["reblog"]["favourited"] is True
    assert row["reblog"]["favourites_count"] == 1
    # Blocking the reblogged author hides the reblog (its id still pages).
    await bob.json("post", f"/api/v1/accounts/{carol.id}/block")
    assert await _home(bob) == []
    await bob.json("post", f"/api/v1/accounts/{carol.id}/unblock")
    assert [s["id"] for s in await _home(bob)] == [reblog["id"]]
    await carol.json("delete", f"/api/v1/statuses/{original['id']}")
    assert await _home(bob) == []


async def _uncached(api: Api, viewer: Actor, page: Page) -> list[dict[str, Any]]:
    """The home page as the generic path renders it: statuses, then batch-loaded views."""
    store = api.store
    ctx = Ctx(store=store, config=api.config, urls=Urls(api.config.base_url))
    statuses = await store.statuses.home_timeline(viewer.account.id, page)
    kept = await drop_hidden(ctx, statuses, viewer.account.id)
    views = await load_status_views(store, kept, viewer.account.id)
    views = await filter_views(store, viewer.account.id, "home", views)
    return schemas.statuses_to_api(views, api.config, viewer.account.id)


async def test_renders_exactly_like_the_generic_path(api: Api) -> None:
    alice, bob = await _pair(api)
    carol = await api.user("carol")
    await bob.json("post", f"/api/v1/accounts/{carol.id}/follow")
    dave = await api.user("dave")
    statuses = []
    for i in range(6):
        statuses.append(await alice.status(f"public {i} @carol #tag{i}"))
        statuses.append(await alice.status(f"private {i}", visibility="private"))
        statuses.append(await carol.status(f"direct {i} @bob", visibility="direct"))
    statuses.append(await carol.status("a poll", poll={"options": ["x", "y"], "expires_in": 600}))
    own = await bob.status("bob's own")
    await bob.json("post", f"/api/v1/statuses/{own['id']}/pin")
    other = await dave.status("from a stranger")
    await alice.json("post", f"/api/v1/statuses/{other['id']}/reblog")
    await carol.json("post", f"/api/v1/statuses/{statuses[0]['id']}/reblog")
    await bob.json("post", f"/api/v1/statuses/{statuses[0]['id']}/favourite")
    await bob.json("post", f"/api/v1/statuses/{statuses[1]['id']}/bookmark")
    await bob.json("post", f"/api/v1/statuses/{statuses[3]['id']}/mute")
    await bob.json("post", f"/api/v1/statuses/{statuses[0]['id']}/reblog")
    await alice.json("put", f"/api/v1/statuses/{statuses[4]['id']}", json={"status": "changed"})
    for params, page in (
        ({}, Page()),
        ({"limit": "5"}, Page(limit=5)),
        ({"limit": "3", "max_id": statuses[9]["id"]}, Page(limit=3, max_id=int(statuses[9]["id"]))),
        ({"limit": "4", "min_id": statuses[2]["id"]}, Page(limit=4, min_id=int(statuses[2]["id"]))),
        ({"since_id": statuses[5]["id"]}, Page(since_id=int(statuses[5]["id"]))),
    ):
        for _ in range(2):  # cold, then from the cache
            assert await _home(bob, **params) == await _uncached(api, bob, page), params
    assert await _home(alice) == await _uncached(api, alice, Page())


async def test_encoded_pages_are_the_bytes_of_the_generic_rendering(api: Api) -> None:
    # Pages are encoded from each status version's stored encoding for the viewer's marks:
    # byte for byte what encoding the generic rendering gives, whoever asked before.
    alice, bob = await _pair(api)
    carol = await api.user("carol")
    await carol.json("post", f"/api/v1/accounts/{alice.id}/follow")
    first = await alice.status("one")
    second = await alice.status("two")
    own = await bob.status("bob's own")
    await bob.json("post", f"/api/v1/statuses/{own['id']}/pin")
    await bob.json("post", f"/api/v1/statuses/{first['id']}/favourite")
    await carol.json("post", f"/api/v1/statuses/{second['id']}/bookmark")
    await alice.status("a poll", poll={"options": ["x", "y"], "expires_in": 600})
    for viewer in (bob, carol, alice, bob, carol, alice):
        resp = await viewer.get(HOME)
        assert resp.status == 200
        expected = orjson.dumps(await _uncached(api, viewer, Page()))
        assert await resp.read() == expected
    # A mark set since is in the next page (not the encoding stored before it).
    await carol.json("post", f"/api/v1/statuses/{first['id']}/favourite")
    resp = await carol.get(HOME)
    assert await resp.read() == orjson.dumps(await _uncached(api, carol, Page()))
    assert [s["favourited"] for s in await _home(carol)][-1] is True


async def test_pages_joined_from_stored_encodings_are_the_generic_bytes(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A page asked again whose statuses (none a reblog or with a poll) were all encoded with
    # the viewer's marks is joined from those encodings, no view built: the same bytes as
    # the generic rendering after every change of marks, and filters the viewer adds or
    # removes show in the next page.
    built: list[int] = []
    real_entry_views = pages.entry_views

    async def counting(*args: Any) -> Any:
        built.append(1)
        return await real_entry_views(*args)

    monkeypatch.setattr(pages, "entry_views", counting)
    alice, bob = await _pair(api)
    carol = await api.user("carol")
    await bob.json("post", f"/api/v1/accounts/{carol.id}/follow")
    first = await alice.status("first, about apples")
    second = await carol.status("second @bob", visibility="private")
    await alice.status("third #tagged")
    own = await bob.status("bob's own")

    async def same_bytes_twice() -> None:
        for _ in range(2):
            resp = await bob.get(HOME)
            assert resp.status == 200
            assert await resp.read() == orjson.dumps(await _uncached(api, bob, Page()))

    await same_bytes_twice()
    built.clear()
    await same_bytes_twice()
    assert built == []  # served from the stored encodings
    for action in (
        f"/api/v1/statuses/{first['id']}/favourite",
        f"/api/v1/statuses/{second['id']}/bookmark",
        f"/api/v1/statuses/{own['id']}/pin",
        f"/api/v1/statuses/{first['id']}/unfavourite",
        f"/api/v1/statuses/{first['id']}/mute",
        f"/api/v1/statuses/{own['id']}/unpin",
        f"/api/v1/statuses/{first['id']}/favourite",
        f"/api/v1/statuses/{first['id']}/unmute",
    ):
        await bob.json("post", action)
        await same_bytes_twice()
    shown = {s["id"]: s for s in await _home(bob)}
    assert shown[first["id"]]["favourited"] is True and shown[first["id"]]["muted"] is False
    assert shown[second["id"]]["bookmarked"] is True and shown[own["id"]]["pinned"] is False
    made = await bob.keyword_filter("fruit", "apples")
    await same_bytes_twice()
    shown = {s["id"]: s for s in await _home(bob)}
    assert [f["filter"]["title"] for f in shown[first["id"]]["filtered"]] == ["fruit"]
    await bob.json("delete", f"/api/v2/filters/{made['id']}")
    await same_bytes_twice()
    assert all(s["filtered"] == [] for s in await _home(bob))


async def test_rows_kept_for_one_viewer_show_right_for_another(api: Api) -> None:
    # An encoded row is kept by the row (status version and marks) and reused for any
    # viewer whose row is equal, but the author's own row (which shows ``pinned``) is kept
    # apart from everyone else's.
    alice, bob = await _pair(api)
    carol = await api.user("carol")
    await carol.json("post", f"/api/v1/accounts/{alice.id}/follow")
    pinned = await alice.status("pinned by its author")
    await alice.json("post", f"/api/v1/statuses/{pinned['id']}/pin")
    other = await alice.status("not pinned")
    await carol.json("post", f"/api/v1/statuses/{other['id']}/favourite")
    for viewer in (alice, bob, carol, alice, bob, carol, bob):
        resp = await viewer.get(HOME)
        assert await resp.read() == orjson.dumps(await _uncached(api, viewer, Page()))
    mine = {s["id"]: s for s in await _home(alice)}
    theirs = {s["id"]: s for s in await _home(bob)}
    assert mine[pinned["id"]]["pinned"] is True and "pinned" not in theirs[pinned["id"]]
    assert [s["favourited"] for s in await _home(carol)] == [True, False]
    assert [s["favourited"] for s in await _home(bob)] == [False, False]


async def test_every_counter_shows_at_once(api: Api) -> None:
    # A status's counters and its author's are in its version through the revisions each
    # change of count bumps: a page read again never shows an old count, after any one
    # change (each checked alone, so that one change's bump does not hide another's).
    alice, bob = await _pair(api)
    carol = await api.user("carol")
    status = await alice.status("count everything")
    sid, aid, cid = status["id"], alice.id, carol.id
    counts = ("reblogs_count", "favourites_count", "replies_count")
    author = ("followers_count", "following_count", "statuses_count")

    async def shown() -> tuple[tuple[int, ...], tuple[int, ...]]:
        (row,) = [s for s in await _home(bob) if s["id"] == sid]
        return tuple(row[k] for k in counts), tuple(row["account"][k] for k in author)

    assert await shown() == ((0, 0, 0), (1, 0, 1))
    reply: dict[str, Any] = {}

    async def post_reply() -> None:
        reply.update(await carol.status("a reply", in_reply_to_id=sid))

    steps: list[tuple[Any, tuple[tuple[int, ...], tuple[int, ...]]]] = [
        (carol.json("post", f"/api/v1/statuses/{sid}/reblog"), ((1, 0, 0), (1, 0, 1))),
        (carol.json("post", f"/api/v1/statuses/{sid}/favourite"), ((1, 1, 0), (1, 0, 1))),
        (post_reply(), ((1, 1, 1), (1, 0, 1))),
        (carol.json("post", f"/api/v1/accounts/{aid}/follow"), ((1, 1, 1), (2, 0, 1))),
        (alice.json("post", f"/api/v1/accounts/{cid}/follow"), ((1, 1, 1), (2, 1, 1))),
        (carol.json("post", f"/api/v1/statuses/{sid}/unreblog"), ((0, 1, 1), (2, 1, 1))),
        (carol.json("post", f"/api/v1/statuses/{sid}/unfavourite"), ((0, 0, 1), (2, 1, 1))),
        (carol.json("post", f"/api/v1/accounts/{aid}/unfollow"), ((0, 0, 1), (1, 1, 1))),
        (alice.json("post", f"/api/v1/accounts/{cid}/unfollow"), ((0, 0, 1), (1, 0, 1))),
    ]
    for change, expected in steps:
        await change
        assert await shown() == expected
        assert await shown() == expected  # the second read from the cache
    await carol.json("delete", f"/api/v1/statuses/{reply['id']}")
    assert await shown() == ((0, 0, 0), (1, 0, 1))
    await alice.status("another")
    assert (await shown())[1] == (1, 0, 2)


async def test_only_reblogs_polls_and_new_versions_are_rendered_again(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A page read again renders only its rows kept nowhere (a reblog, a poll, a status
    # changed since); the others come as kept. The bytes are the generic rendering's.
    rendered: list[list[str]] = []
    real_entry_views = pages.entry_views

    async def counting(store: Any, entries: Any, viewer: Any) -> Any:
        rendered.append([str(e.id) for e in entries])
        return await real_entry_views(store, entries, viewer)

    monkeypatch.setattr(pages, "entry_views", counting)
    alice, bob = await _pair(api)
    carol = await api.user("carol")
    plain = await alice.status("plain")
    poll = await alice.status("a poll", poll={"options": ["x", "y"], "expires_in": 600})
    reblog = await alice.json("post", f"/api/v1/statuses/{(await carol.status('c'))['id']}/reblog")
    edited = await alice.status("to be edited")

    async def same_bytes() -> None:
        resp = await bob.get(HOME)
        assert await resp.read() == orjson.dumps(await _uncached(api, bob, Page()))

    await same_bytes()
    rendered.clear()
    await same_bytes()
    assert rendered == [[reblog["id"], poll["id"]]]
    await alice.json("put", f"/api/v1/statuses/{edited['id']}", json={"status": "edited"})
    await bob.json("post", f"/api/v1/statuses/{plain['id']}/favourite")
    rendered.clear()
    await same_bytes()
    assert rendered == [[edited["id"], reblog["id"], poll["id"], plain["id"]]]
