"""Paging with max_id / since_id / min_id and Link headers: no duplicates, nothing missing."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from api_helpers import Actor, Api


def _links(header: str) -> dict[str, dict[str, str]]:
    out = {}
    for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header):
        out[rel] = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return out


async def _walk_next(actor: Actor, path: str, limit: int) -> list[str]:
    seen: list[str] = []
    params: dict[str, str] = {"limit": str(limit)}
    for _ in range(50):
        resp = await actor.get(path, params=params)
        assert resp.status == 200
        page = await resp.json()
        seen.extend(s["id"] for s in page)
        links = _links(resp.headers.get("Link", ""))
        if "next" not in links:
            break
        assert links["next"]["limit"] == str(limit)
        params = links["next"]
    return seen


async def test_home_timeline_paging_both_directions(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    await alice.json("post", f"/api/v1/accounts/{bob.id}/follow")
    posted = []
    for i in range(23):
        author = bob if i % 2 else alice
        posted.append((await author.status(f"post {i}"))["id"])
    newest_first = list(reversed(posted))

    # Down with "next" links: every status exactly once, newest first.
    seen = await _walk_next(alice, "/api/v1/timelines/home", 5)
    assert seen == newest_first

    # Up with min_id: the page just above a cursor, still newest first within the page.
    cursor = newest_first[10]
    resp = await alice.get("/api/v1/timelines/home", params={"min_id": cursor, "limit": "3"})
    page = [s["id"] for s in await resp.json()]
    assert page == newest_first[7:10]
    prev = _links(resp.headers["Link"])["prev"]
    assert prev == {"limit": "3", "min_id": newest_first[7]}

    # since_id: the newest ones above the cursor.
    page = [
        s["id"]
        for s in await alice.json("get", f"/api/v1/timelines/home?since_id={cursor}&limit=3")
    ]
    assert page == newest_first[:3]

    # Walking up with prev links from the bottom collects everything too.
    collected: list[str] = []
    params = {"min_id": "0", "limit": "4"}
    for _ in range(20):
        resp = await alice.get("/api/v1/timelines/home", params=params)
        page = [s["id"] for s in await resp.json()]
        if not page:
            break
        collected = page + collected
        params = _links(resp.headers["Link"])["prev"]
    assert collected == newest_first
    assert len(set(collected)) == len(collected)


async def test_account_statuses_and_public_paging(api: Api) -> None:
    alice = await api.user("alice")
    ids = [(await alice.status(f"n{i}"))["id"] for i in range(9)]
    assert await _walk_next(alice, f"/api/v1/accounts/{alice.id}/statuses", 4) == ids[::-1]
    assert await _walk_next(alice, "/api/v1/timelines/public", 2) == ids[::-1]


async def test_favourites_page_by_favourite_order(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    ids = [(await bob.status(f"b{i}"))["id"] for i in range(5)]
    for sid in (ids[2], ids[0], ids[4], ids[1]):
        await alice.json("post", f"/api/v1/statuses/{sid}/favourite")
    seen = await _walk_next(alice, "/api/v1/favourites", 3)
    assert seen == [ids[1], ids[4], ids[0], ids[2]]


async def test_link_header_keeps_the_other_parameters_as_sent(api: Api) -> None:
    alice = await api.user("alice")
    posted = [(await alice.status(f"post {i}"))["id"] for i in range(3)]
    resp = await alice.get(
        "/api/v1/timelines/home?limit=2&tag=a%20b&local=true&max_id=9000000000000000000"
    )
    assert resp.status == 200
    header = resp.headers["Link"]
    nxt, prev = re.findall(r"<([^>]+)>", header)
    assert nxt.endswith(f"/api/v1/timelines/home?limit=2&tag=a+b&local=true&max_id={posted[1]}")
    assert prev.endswith(f"/api/v1/timelines/home?limit=2&tag=a+b&local=true&min_id={posted[2]}")
    assert header == f'<{nxt}>; rel="next", <{prev}>; rel="prev"'
    # Asked again with other parameters, the header follows them (not the last query's).
    resp = await alice.get("/api/v1/timelines/home?min_id=0&limit=5")
    (prev,) = re.findall(r"<([^>]+)>", resp.headers["Link"])
    assert prev.endswith(f"/api/v1/timelines/home?limit=5&min_id={posted[2]}")
    assert resp.headers["Link"] == f'<{prev}>; rel="prev"'
