"""/tags/{name}: the hashtag's recent public posts, local and remote, as HTML or AS2."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from api_helpers import Api

from storage.accounts import NewAccount
from storage.statuses import NewStatus

AP = "application/activity+json"

Site = Callable[..., Awaitable[Api]]


async def _remote_post(api: Any, username: str, html: str, tags: list[str], **kw: Any) -> Any:
    account = await api.store.accounts.by_handle(username, "far.example")
    if account is None:
        account = await api.store.accounts.create(
            NewAccount(
                username=username,
                domain="far.example",
                uri=f"https://far.example/users/{username}",
                url=f"https://far.example/@{username}",
                **kw,
            )
        )
    n = await api.store.statuses.create(
        NewStatus(
            account_id=account.id,
            local=False,
            uri=f"https://far.example/users/{username}/statuses/{len(html)}{username}",
            url=f"https://far.example/@{username}/{len(html)}",
            content=html,
            tags=tags,
        )
    )
    return n


async def test_tag_page_lists_public_posts_with_that_tag(site: Site) -> None:
    api = await site(title="Riverside")
    alice = await api.user("alice")
    tagged = await alice.status("درود بر همه #سلام")
    await alice.status("سلام without the hashtag")
    await alice.status("secret #سلام", visibility="private")
    await alice.status("quiet #سلام", visibility="unlisted")
    remote = await _remote_post(
        api, "bob", "<p>from afar #سلام<script>alert(1)</script></p>", ["سلام"]
    )

    resp = await api.client.get("/tags/سلام")
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    assert "درود بر همه" in html
    assert "without the hashtag" not in html
    assert "secret" not in html and "quiet" not in html
    assert "from afar" in html and "<script>" not in html
    assert "@bob@far.example" in html and 'href="https://far.example/@bob/' in html
    assert f'href="https://local.test/@alice/{tagged["id"]}"' in html
    assert remote.id > int(tagged["id"])
    assert html.index("from afar") < html.index("درود بر همه")  # newest first
    assert '<meta name="viewport"' in html

    # the percent-encoded path, as a browser sends it, is the same page
    encoded = await api.client.get("/tags/" + quote("سلام"))
    assert encoded.status == 200 and "درود بر همه" in await encoded.text()

    local_only = await (await api.client.get("/tags/سلام?local=true")).text()
    assert "درود بر همه" in local_only and "from afar" not in local_only


async def test_tag_names_are_unicode_normalised_and_casefolded(site: Site) -> None:
    api = await site()
    alice = await api.user("alice")
    await alice.status("lunch at the #Café")
    for path in ("/tags/café", "/tags/CAFÉ", "/tags/cafe\u0301", "/tags/" + quote("CAFE\u0301")):
        resp = await api.client.get(path)
        assert resp.status == 200, path
        assert "lunch at the" in await resp.text(), path


async def test_unknown_tag_is_404_in_html_and_in_json(site: Site) -> None:
    api = await site()
    resp = await api.client.get("/tags/nothinghere")
    assert resp.status == 404 and resp.content_type == "text/html"
    assert "#nothinghere" in await resp.text()
    ap = await api.client.get("/tags/nothinghere", headers={"Accept": AP})
    assert ap.status == 404 and ap.content_type == "application/json"


async def test_tag_page_pages_with_max_id(site: Site) -> None:
    api = await site()
    bob = await api.store.accounts.create(
        NewAccount(username="bob", domain="far.example", uri="https://far.example/users/bob")
    )
    ids = []
    for n in range(23):
        s = await api.store.statuses.create(
            NewStatus(
                account_id=bob.id,
                local=False,
                uri=f"https://far.example/s/{n}",
                content=f"<p>post-{n:02d}-end #many</p>",
                tags=["many"],
            )
        )
        ids.append(s.id)
    first = await (await api.client.get("/tags/many")).text()
    assert "post-22-end" in first and "post-03-end" in first and "post-02-end" not in first
    assert f'href="/tags/many?max_id={ids[3]}"' in first
    older = await (await api.client.get(f"/tags/many?max_id={ids[3]}")).text()
    assert "post-02-end" in older and "post-00-end" in older and "post-03-end" not in older
    assert "?max_id=" not in older  # the last page links no further
    doc = await (await api.client.get("/tags/many", headers={"Accept": AP})).json()
    assert doc["totalItems"] == 23 and len(doc["first"]["orderedItems"]) == 20
    assert doc["first"]["next"] == f"https://local.test/tags/many?page=true&max_id={ids[3]}"


async def test_silenced_and_suspended_accounts_stay_off_tag_pages(site: Site) -> None:
    api = await site()
    await _remote_post(api, "loud", "<p>shouting #news</p>", ["news"])
    await _remote_post(api, "calm", "<p>calm words #news</p>", ["news"])
    await _remote_post(api, "gone", "<p>gone words #news</p>", ["news"])
    loud = await api.store.accounts.by_handle("loud", "far.example")
    gone = await api.store.accounts.by_handle("gone", "far.example")
    assert loud is not None and gone is not None
    await api.store.accounts.update(loud.id, silenced=True)
    await api.store.accounts.update(gone.id, suspended=True)
    html = await (await api.client.get("/tags/news")).text()
    assert "calm words" in html and "shouting" not in html and "gone words" not in html
    doc = await (await api.client.get("/tags/news", headers={"Accept": AP})).json()
    assert doc["totalItems"] == 1 and len(doc["first"]["orderedItems"]) == 1


async def test_tag_as_activitystreams_collection(site: Site) -> None:
    api = await site()
    alice = await api.user("alice")
    public = await alice.status("one #سلام")
    await alice.status("two #سلام", visibility="private")
    remote = await _remote_post(api, "bob", "<p>three #سلام</p>", ["سلام"])

    resp = await api.client.get("/tags/" + quote("سلام"), headers={"Accept": AP})
    assert resp.status == 200 and resp.content_type == AP
    doc = await resp.json()
    assert doc["type"] == "OrderedCollection"
    assert doc["id"] == "https://local.test/tags/سلام"
    assert doc["totalItems"] == 2
    assert doc["first"]["orderedItems"] == [remote.uri, public["uri"]]
    page = await (
        await api.client.get(
            "/tags/سلام",
            params={"page": "true", "max_id": str(remote.id)},
            headers={"Accept": AP},
        )
    ).json()
    assert page["type"] == "OrderedCollectionPage" and page["orderedItems"] == [public["uri"]]


async def test_tag_collection_obeys_authorized_fetch(site: Site) -> None:
    # As every other S2S read: unsigned JSON is refused; the HTML page stays public.
    api = await site(federation={"authorized_fetch": True})
    alice = await api.user("alice")
    await alice.status("one #locked")
    ap = await api.client.get("/tags/locked", headers={"Accept": AP})
    assert ap.status == 401
    assert (await api.client.get("/tags/locked")).status == 200
