"""The public and hashtag timelines are one query a page, rendered from the in-process cache
of status versions (services.render_cache): counters, edits and polls show at once, the
viewer's marks stay the viewer's, and a page renders exactly what the uncached path renders."""

from __future__ import annotations

from typing import Any

from api_helpers import Actor, Api

from fedinode.api import schemas
from fedinode.services.filters import filter_views
from fedinode.services.views import load_status_views
from storage.paging import Page

PUBLIC = "/api/v1/timelines/public"
TAG = "/api/v1/timelines/tag/cached"


async def _get(actor: Actor | None, api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    if actor is None:
        return await api.anon(path, params=params)  # type: ignore[no-any-return]
    return await actor.json("get", path, params=params)  # type: ignore[no-any-return]


async def test_counters_show_at_once_and_marks_stay_per_viewer(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    status = await alice.status("count me #cached")
    for path in (PUBLIC, TAG):
        for viewer in (alice, bob, None):
            (row,) = await _get(viewer, api, path)
            assert row["favourites_count"] == 0 and row["reblogs_count"] == 0
    await bob.json("post", f"/api/v1/statuses/{status['id']}/favourite")
    await bob.json("post", f"/api/v1/statuses/{status['id']}/bookmark")
    for path in (PUBLIC, TAG):
        (mine,) = await _get(bob, api, path)
        assert (mine["favourites_count"], mine["favourited"], mine["bookmarked"]) == (1, True, True)
        (theirs,) = await _get(alice, api, path)
        assert (theirs["favourites_count"], theirs["favourited"], theirs["bookmarked"]) == (
            1,
            False,
            False,
        )
        (nobody,) = await _get(None, api, path)
        assert nobody["favourites_count"] == 1
        assert "favourited" not in nobody and "bookmarked" not in nobody
    await alice.json("post", f"/api/v1/statuses/{status['id']}/reblog")
    # Reblogs are not in the public timelines; the original's counter moves.
    for path in (PUBLIC, TAG):
        (row,) = await _get(bob, api, path)
        assert row["id"] == status["id"] and row["reblogs_count"] == 1
        assert row["reblogged"] is False
        (row,) = await _get(alice, api, path)
        assert row["reblogged"] is True and row["favourited"] is False


async def test_a_signed_out_page_never_shows_a_viewers_marks(api: Api) -> None:
    """Rows are kept encoded by version and marks; a signed-out reader's show no marks at
    all, not those of a viewer who set none."""
    alice = await api.user("alice")
    bob = await api.user("bob")
    await alice.status("read me #cached")
    for path in (PUBLIC, TAG):
        for _ in range(2):  # the second round is served from what the first kept
            (seen,) = await _get(bob, api, path)
            assert (seen["favourited"], seen["bookmarked"]) == (False, False)
            (nobody,) = await _get(None, api, path)
            assert "favourited" not in nobody and "bookmarked" not in nobody
            assert {k: v for k, v in seen.items() if k not in nobody} == {
                "favourited": False, "reblogged": False, "muted": False, "bookmarked": False,
            }  # fmt: skip


async def test_edit_and_profile_show_at_once(api: Api) -> None:
    alice = await api.user("alice")
    status = await alice.status("first #cached")
    for _ in range(2):  # the second read is served from the cache
        assert [s["content"] for s in await _get(None, api, PUBLIC)] == [status["content"]]
    await alice.json(
        "put", f"/api/v1/statuses/{status['id']}", json={"status": "second words #cached"}
    )
    for path in (PUBLIC, TAG):
        (row,) = await _get(None, api, path)
        assert "second words" in row["content"] and row["edited_at"] is not None
    await alice.json("patch", "/api/v1/accounts/update_credentials", json={"display_name": "Al"})
    (row,) = await _get(None, api, PUBLIC)
    assert row["account"]["display_name"] == "Al"
    # An edit that drops the tag takes the status off the tag's timeline.
    await alice.json("put", f"/api/v1/statuses/{status['id']}", json={"status": "no tag"})
    assert await _get(None, api, TAG) == []
    await alice.json("delete", f"/api/v1/statuses/{status['id']}")
    assert await _get(None, api, PUBLIC) == []


async def test_poll_votes_are_the_viewers_own(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    status = await alice.status("pick #cached", poll={"options": ["a", "b"], "expires_in": 3600})
    await bob.json("post", f"/api/v1/polls/{status['poll']['id']}/votes", json={"choices": [0]})
    for path in (PUBLIC, TAG):
        (row,) = await _get(bob, api, path)
        assert row["poll"]["voted"] is True and row["poll"]["own_votes"] == [0]
        assert [o["votes_count"] for o in row["poll"]["options"]] == [1, 0]
        (row,) = await _get(alice, api, path)
        assert row["poll"]["own_votes"] == [] and row["poll"]["voted"] is True
        (row,) = await _get(None, api, path)
        assert row["poll"]["voted"] is False and row["poll"]["own_votes"] == []


async def _uncached(
    api: Api, viewer: Actor | None, page: Page, *, tag: str | None, local: bool | None
) -> list[dict[str, Any]]:
    """A page as the generic path renders it: statuses, then batch-loaded views."""
    store = api.store
    vid = viewer.account.id if viewer is not None else None
    if tag is None:
        statuses = await store.statuses.public_timeline(vid, page, local=local)
    else:
        statuses = await store.statuses.tag_timeline(vid, [tag], page, local=local)
    views = await load_status_views(store, statuses, vid)
    views = await filter_views(store, vid, "public", views)
    return schemas.statuses_to_api(views, api.config, vid)


async def test_renders_exactly_like_the_generic_path(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    carol = await api.user("carol")
    statuses = []
    for i in range(5):
        statuses.append(await alice.status(f"public {i} @carol #cached"))
        statuses.append(await carol.status(f"other {i} #cached #more{i}"))
        await alice.status(f"unlisted {i} #cached", visibility="unlisted")
    statuses.append(await carol.status("a poll #cached", poll={"options": ["x", "y"]}))
    await bob.json("post", f"/api/v1/statuses/{statuses[0]['id']}/favourite")
    await bob.json("post", f"/api/v1/statuses/{statuses[1]['id']}/bookmark")
    await bob.json("post", f"/api/v1/statuses/{statuses[2]['id']}/reblog")
    await bob.json("post", f"/api/v1/statuses/{statuses[3]['id']}/mute")
    await alice.json("put", f"/api/v1/statuses/{statuses[4]['id']}", json={"status": "changed"})
    await bob.json("post", "/api/v1/filters", json={"phrase": "other 3", "context": ["public"]})
    pages: list[tuple[dict[str, str], Page]] = [
        ({}, Page()),
        ({"limit": "3"}, Page(limit=3)),
        ({"limit": "3", "max_id": statuses[6]["id"]}, Page(limit=3, max_id=int(statuses[6]["id"]))),
        ({"limit": "2", "min_id": statuses[2]["id"]}, Page(limit=2, min_id=int(statuses[2]["id"]))),
        ({"since_id": statuses[5]["id"]}, Page(since_id=int(statuses[5]["id"]))),
    ]
    for viewer in (bob, alice, None):
        for path, tag in ((PUBLIC, None), (TAG, "cached")):
            for params, page in pages:
                for _ in range(2):  # cold, then from the cache
                    got = await _get(viewer, api, path, **params)
                    assert got == await _uncached(api, viewer, page, tag=tag, local=None), params
            got = await _get(viewer, api, path, local="true")
            assert got == await _uncached(api, viewer, Page(), tag=tag, local=True)
