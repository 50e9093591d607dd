"""S2S routes on a real instance: discovery, actors, content negotiation, collections."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from federation.conftest import Instance, free_port

from activitypub.keys import load_private
from activitypub.signatures import sign_request
from fedinode.app import create_app
from fedinode.config import load_config
from storage.models import Account

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[Instance]:
    instance = Instance("home", free_port(), f"sqlite:///{tmp_path}/h.sqlite3", tmp_path)
    await instance.start()
    yield instance
    await instance.stop()


async def _get(
    home: Instance, path: str, accept: str = AP, headers: dict[str, str] | None = None
) -> tuple[int, Any, aiohttp.ClientResponse]:
    async with aiohttp.ClientSession() as session:
        async with session.get(
            f"http://{home.domain}{path}",
            headers={"Accept": accept, **(headers or {})},
            allow_redirects=False,
        ) as r:
            body: Any = (
                await r.json(content_type=None) if "json" in r.content_type else await r.text()
            )
            return r.status, body, r


async def test_webfinger_acct_and_url_resources(home: Instance) -> None:
    alice = await home.user("alice")
    for resource in (
        f"acct:alice@{home.domain}",
        f"alice@{home.domain}",
        alice.uri,
        f"acct:ALICE@{home.domain}",
    ):
        status, body, response = await _get(home, f"/.well-known/webfinger?resource={resource}")
        assert status == 200, resource
        assert response.content_type == "application/jrd+json"
        assert body["subject"] == f"acct:alice@{home.domain}"
        selfs = {link["type"]: link["href"] for link in body["links"] if link["rel"] == "self"}
        assert selfs == {AP: alice.uri, LD: alice.uri}
        assert any(link["rel"] == "http://webfinger.net/rel/profile-page" for link in body["links"])


@pytest.mark.parametrize(
    "resource", ["acct:nobody@{d}", "acct:alice@elsewhere.example", "https://x.example/users/alice"]
)
async def test_webfinger_unknown_is_404(home: Instance, resource: str) -> None:
    await home.user("alice")
    status, _, _ = await _get(
        home, f"/.well-known/webfinger?resource={resource.format(d=home.domain)}"
    )
    assert status == 404


async def test_webfinger_without_resource_is_400(home: Instance) -> None:
    assert (await _get(home, "/.well-known/webfinger"))[0] == 400


async def test_host_meta_xml_and_json(home: Instance) -> None:
    status, body, response = await _get(home, "/.well-known/host-meta", accept="*/*")
    assert status == 200 and response.content_type == "application/xrd+xml"
    assert f"http://{home.domain}/.well-known/webfinger?resource={{uri}}" in body
    for path, accept in (
        ("/.well-known/host-meta", "application/json"),
        ("/.well-known/host-meta.json", "*/*"),
    ):
        status, doc, _ = await _get(home, path, accept=accept)
        assert status == 200 and doc["links"][0]["template"].endswith("resource={uri}")


@pytest.mark.parametrize("accept", [AP, LD, f"{LD}, text/html;q=0.1"])
async def test_actor_document_for_activitypub_clients(home: Instance, accept: str) -> None:
    alice = await home.user("alice", locked=True)
    status, doc, response = await _get(home, "/users/alice", accept=accept)
    assert status == 200 and response.content_type == AP
    assert doc["id"] == alice.uri and doc["type"] == "Person"
    assert (
        doc["publicKey"]["id"] == alice.public_key_id
        and "BEGIN PUBLIC KEY" in doc["publicKey"]["publicKeyPem"]
    )
    assert doc["endpoints"]["sharedInbox"] == f"http://{home.domain}/inbox"
    assert doc["manuallyApprovesFollowers"] is True
    for key in ("inbox", "outbox", "followers", "following", "featured"):
        assert doc[key].startswith(alice.uri)


async def test_actor_redirects_browsers_to_the_profile_page(home: Instance) -> None:
    await home.user("alice")
    status, _, response = await _get(home, "/users/alice", accept="text/html,application/xhtml+xml")
    assert status == 302 and response.headers["Location"] == f"http://{home.domain}/@alice"


async def test_unknown_actor_is_404(home: Instance) -> None:
    assert (await _get(home, "/users/nobody"))[0] == 404


async def test_instance_actor(home: Instance) -> None:
    status, doc, _ = await _get(home, "/actor")
    assert status == 200 and doc["type"] == "Application"
    assert doc["id"] == f"http://{home.domain}/actor" and doc["publicKey"]["owner"] == doc["id"]


# GoToSocial's pattern for the user names it stores and parses out of /users/ paths
# (internal/regexes `usernameRelaxed`, the one that also matches instance accounts); its
# mention pattern is wider (letters, marks, digits, . - _) and has no ':' either.
GTS_USERNAME = re.compile(r"^[a-z0-9_.]+$")
Getter = Callable[[str, str], Awaitable[tuple[int, Any]]]


async def _instance_actor_round_trip(get: Getter, domain: str) -> str:
    """What GoToSocial and Mastodon do with a keyId they meet: fetch the actor, WebFinger
    acct:<preferredUsername>@<domain>, and accept only the same name back and a `self`
    link to the actor."""
    status, actor = await get("/actor", AP)
    assert status == 200 and actor["type"] == "Application"
    name = actor["preferredUsername"]
    assert GTS_USERNAME.match(name), name
    status, jrd = await get(f"/.well-known/webfinger?resource=acct:{name}@{domain}", "*/*")
    assert status == 200
    assert jrd["subject"] == f"acct:{name}@{domain}"
    assert jrd["subject"].removeprefix("acct:").split("@") == [name, domain]  # Mastodon's split
    selfs = {link["type"]: link["href"] for link in jrd["links"] if link["rel"] == "self"}
    assert selfs == {AP: actor["id"], LD: actor["id"]}
    return str(actor["id"])


async def test_instance_actor_round_trips_through_webfinger_with_a_port(home: Instance) -> None:
    async def get(path: str, accept: str) -> tuple[int, Any]:
        status, body, _ = await _get(home, path, accept=accept)
        return status, body

    assert ":" in home.domain
    actor_id = await _instance_actor_round_trip(get, home.domain)
    assert actor_id == f"http://{home.domain}/actor"


async def test_instance_actor_round_trips_through_webfinger_without_a_port(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    base = load_config(None, environ={})
    config = dataclasses.replace(
        base,
        instance=dataclasses.replace(base.instance, domain="social.example"),
        database=dataclasses.replace(base.database, url=f"sqlite:///{tmp_path}/np.sqlite3"),
        media=dataclasses.replace(base.media, directory=str(tmp_path / "media")),
    )
    client = await aiohttp_client(create_app(config))

    async def get(path: str, accept: str) -> tuple[int, Any]:
        async with client.get(path, headers={"Accept": accept}) as r:
            return r.status, await r.json(content_type=None)

    actor_id = await _instance_actor_round_trip(get, "social.example")
    assert actor_id == "https://social.example/actor"


async def test_instance_actor_answers_to_its_older_names(home: Instance) -> None:
    host = home.domain.split(":")[0]
    for resource in (
        f"acct:{home.domain}@{home.domain}",  # the preferredUsername it had before
        f"acct:{host}@{home.domain}",
        f"acct:INSTANCE.ACTOR@{home.domain}",
        f"http://{home.domain}/actor",
        f"http://{home.domain}/",  # FEP-d556: the server's own URL
    ):
        status, jrd, _ = await _get(home, f"/.well-known/webfinger?resource={resource}")
        assert status == 200, resource
        assert jrd["subject"] == f"acct:instance.actor@{home.domain}", resource
        selfs = {link["href"] for link in jrd["links"] if link["rel"] == "self"}
        assert selfs == {f"http://{home.domain}/actor"}, resource
    status, _, _ = await _get(home, f"/.well-known/webfinger?resource=acct:{host}@elsewhere.test")
    assert status == 404


async def _post(home: Instance, author: Account, text: str, visibility: str = "public") -> int:
    status = await home.post(author, text, visibility=visibility)
    return status.id


async def test_status_objects_respect_visibility(home: Instance) -> None:
    alice = await home.user("alice")
    public_id = await _post(home, alice, "public words")
    private_id = await _post(home, alice, "secret words", visibility="private")
    status, note, _ = await _get(home, f"/users/alice/statuses/{public_id}")
    assert status == 200 and note["type"] == "Note" and "public words" in note["content"]
    assert note["attributedTo"] == alice.uri and note["to"] == [
        "https://www.w3.org/ns/activitystreams#Public"
    ]
    status, create, _ = await _get(home, f"/users/alice/statuses/{public_id}/activity")
    assert status == 200 and create["type"] == "Create" and create["object"]["id"] == note["id"]
    assert (await _get(home, f"/users/alice/statuses/{private_id}"))[0] == 404
    assert (await _get(home, "/users/alice/statuses/12345"))[0] == 404
    status, _, response = await _get(home, f"/users/alice/statuses/{public_id}", accept="text/html")
    assert (
        status == 302 and response.headers["Location"] == f"http://{home.domain}/@alice/{public_id}"
    )
    status, replies, _ = await _get(home, f"/users/alice/statuses/{public_id}/replies")
    assert status == 200 and replies["totalItems"] == 0


async def test_outbox_and_follower_collections_page(home: Instance) -> None:
    alice = await home.user("alice")
    ids = [await _post(home, alice, f"post {i}") for i in range(25)]
    await _post(home, alice, "hidden", visibility="private")
    status, outbox, _ = await _get(home, "/users/alice/outbox")
    assert status == 200 and outbox["type"] == "OrderedCollection" and outbox["totalItems"] == 26
    _, page1, _ = await _get(home, outbox["first"].replace(f"http://{home.domain}", ""))
    assert page1["type"] == "OrderedCollectionPage"
    seen = [item["object"]["id"] for item in page1["orderedItems"]]
    _, page2, _ = await _get(home, page1["next"].replace(f"http://{home.domain}", ""))
    seen += [item["object"]["id"] for item in page2["orderedItems"]]
    assert seen == [home.urls.status("alice", i) for i in reversed(ids)]
    assert all("hidden" not in item["object"]["content"] for item in page1["orderedItems"])

    for name in ("bob", "carol"):
        other = await home.user(name)
        await home.store.relationships.follow(other.id, alice.id)
    alice_now = await home.store.accounts.get(alice.id)
    assert alice_now is not None
    status, followers, _ = await _get(home, "/users/alice/followers")
    assert followers["totalItems"] == 2
    _, page, _ = await _get(home, followers["first"].replace(f"http://{home.domain}", ""))
    assert sorted(page["orderedItems"]) == sorted(
        [home.urls.actor("bob"), home.urls.actor("carol")]
    )
    status, featured, _ = await _get(home, "/users/alice/collections/featured")
    assert status == 200 and featured["totalItems"] == 0


async def test_authorized_fetch_requires_a_signature(tmp_path: Path) -> None:
    home = Instance("strict", free_port(), f"sqlite:///{tmp_path}/s.sqlite3", tmp_path,
                    authorized_fetch=True)  # fmt: skip
    await home.start()
    try:
        alice = await home.user("alice")
        post_id = await _post(home, alice, "only for signed fetches")
        path = f"/users/alice/statuses/{post_id}"
        status, _body, _ = await _get(home, path)
        assert status == 401
        # the actor document stays readable: peers need it to verify our signatures
        assert (await _get(home, "/users/alice"))[0] == 200
        # a request signed by a local key (as our own fetcher would) is served
        bob = await home.user("bob")
        url = f"http://{home.domain}{path}"
        headers = sign_request(
            "GET", url, {"Accept": AP}, None, bob.public_key_id, load_private(bob.private_key_pem)
        )
        status, note, _ = await _get(home, path, headers=headers)
        assert status == 200 and note["id"] == home.urls.status("alice", post_id)
        bad = {
            **headers,
            "Signature": headers["Signature"].replace('signature="', 'signature="AAAA'),
        }
        assert (await _get(home, path, headers=bad))[0] == 401
    finally:
        await home.stop()
