"""PeerTube videos, Pixelfed photos, Funkwhale tracks and Mobilizon events reach a running
instance (through its inbox, an Announce, or a search by URL) and a Mastodon app sees them
as statuses: the title and a link to the original, the media as attachments."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.api_client import Client, make_client, session
from federation.conftest import Instance, InstanceFactory, eventually

# The hand-written payloads and the fake peer live beside the activitypub tests.
sys.path.append(str(Path(__file__).parents[1] / "activitypub"))

import remote_objects
from remote_peer import FakePeer

__all__ = ["session"]  # the fixture

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = remote_objects.PUBLIC


@pytest.fixture
async def peer() -> AsyncIterator[tuple[FakePeer, dict[str, dict[str, Any]]]]:
    """A remote server with actors (``/users/{name}``) and any object put in ``objects``
    (by path), served as activity+json; it signs what it POSTs with its actors' keys."""
    objects: dict[str, dict[str, Any]] = {}
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")
    fake = FakePeer(server=server, actors={"tube": 0, "pix": 1, "ana": 2, "lanterns": 3, "tcit": 4})

    async def actor(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in fake.actors:
            raise web.HTTPNotFound()
        return _json(fake.actor_doc(name))

    async def obj(request: web.Request) -> web.Response:
        found = objects.get(request.path)
        if found is None:
            raise web.HTTPNotFound()
        return _json(found)

    async def inbox(request: web.Request) -> web.Response:
        fake.received.append(orjson.loads(await request.read()))
        return web.Response(status=202)

    app.router.add_get("/users/{name}", actor)
    app.router.add_post("/inbox", inbox)
    app.router.add_post("/users/{name}/inbox", inbox)
    app.router.add_get("/{tail:.*}", obj)
    await server.start_server()
    yield fake, objects
    await server.close()


def _json(doc: dict[str, Any]) -> web.Response:
    return web.Response(body=orjson.dumps(doc), content_type="application/activity+json")


async def _deliver(home: Instance, peer: FakePeer, activity: dict[str, Any], signer: str) -> None:
    url = f"http://{home.domain}/inbox"
    body, headers = peer.signed_post(url, activity, signer=signer)
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=body, headers=headers) as response:
            assert response.status == 202, await response.text()


def _create(obj: dict[str, Any], actor: str) -> dict[str, Any]:
    return {"@context": AS, "id": f"{obj['id']}#create", "type": "Create", "actor": actor,
            "to": obj.get("to", [PUBLIC]), "object": obj}  # fmt: skip


async def _stored(home: Instance, uri: str) -> Any:
    return await eventually(lambda: home.store.statuses.by_uri(uri), what=f"status {uri}")


async def _via_api(alice: Client, home: Instance, uri: str) -> dict[str, Any]:
    status = await _stored(home, uri)
    found: dict[str, Any] = await alice.get(f"/api/v1/statuses/{status.id}")
    return found


def _one_media(status: dict[str, Any], kind: str, remote: str) -> dict[str, Any]:
    [media] = status["media_attachments"]
    assert media["type"] == kind, media
    assert media["remote_url"] == remote and media["url"] == remote, media
    return media  # type: ignore[no-any-return]


Check = Callable[[dict[str, Any]], Awaitable[None]]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_objects_through_the_inbox_show_as_statuses(
    instances: InstanceFactory,
    session: aiohttp.ClientSession,
    peer: tuple[FakePeer, dict[str, dict[str, Any]]],
    backend: str,
) -> None:
    fake, _ = peer
    home = await instances("home", backend=backend)
    alice = await make_client(home, session, "alice")
    origin = f"http://{fake.domain}"

    # PeerTube: the account creates the video (the channel is the second attribution).
    tube = fake.actor_uri("tube")
    video = remote_objects.peertube_video(origin, tube, f"{origin}/video-channels/tour")
    await _deliver(home, fake, _create(video, tube), "tube")
    status = await _via_api(alice, home, video["id"])
    watch = video["id"]
    assert status["content"].startswith("<p><strong>A tour of PeerTube 7</strong></p>")
    assert f'<a href="{watch}">{watch}</a>' in status["content"]
    assert "<script" not in status["content"]
    assert status["url"] == watch and status["language"] == "en"
    _one_media(status, "video", f"{origin}/static/web-videos/{remote_objects.UUID}-720.mp4")
    assert [t["name"] for t in status["tags"]] == ["peertube", "fediverse"]
    # PeerTube sends an Update when the video is edited: the status is edited.
    renamed = {**video, "name": "A tour of PeerTube 7.1", "updated": "2026-03-02T10:00:00.000Z"}
    await _deliver(home, fake, {"@context": AS, "id": f"{watch}#update", "type": "Update",
                                "actor": tube, "to": [PUBLIC], "object": renamed}, "tube")  # fmt: skip

    async def edited() -> Any:
        found = await alice.get(f"/api/v1/statuses/{status['id']}")
        return found if found["edited_at"] else None

    status = await eventually(edited, what="video edited")
    assert status["content"].startswith("<p><strong>A tour of PeerTube 7.1</strong></p>")
    _one_media(status, "video", f"{origin}/static/web-videos/{remote_objects.UUID}-720.mp4")

    # Pixelfed: a Note with a photo.
    pix = fake.actor_uri("pix")
    photo_note = remote_objects.pixelfed_note(origin, pix)
    await _deliver(home, fake, _create(photo_note, pix), "pix")
    status = await _via_api(alice, home, photo_note["id"])
    assert "Golden hour at the lake" in status["content"]
    media = _one_media(status, "image", f"{origin}/storage/m/_v2/70123/abc/def/lake.jpg")
    assert media["description"] == "A lake at sunset, reeds in front"

    # A bare Image.
    ana = fake.actor_uri("ana")
    image = remote_objects.bare_image(origin, ana)
    await _deliver(home, fake, _create(image, ana), "ana")
    status = await _via_api(alice, home, image["id"])
    assert status["content"].startswith(
        "<p><strong>Harbour at dawn</strong></p><p>Shot on film, pushed one stop.</p>"
    )
    assert status["spoiler_text"] == "" and status["url"] == f"{image['id']}/view"
    _one_media(status, "image", f"{origin}/media/harbour-2048.jpg")

    # Funkwhale: a channel's track; the Create carries no addressing of its own.
    lanterns = fake.actor_uri("lanterns")
    track = remote_objects.funkwhale_audio(origin, lanterns)
    create = _create(track, lanterns)
    del create["to"]
    await _deliver(home, fake, create, "lanterns")
    status = await _via_api(alice, home, track["id"])
    assert status["content"].startswith(
        "<p><strong>Tidal Drift - Night Swims - The Lanterns</strong></p>"
    )
    assert f'href="{origin}/library/tracks/12"' in status["content"]
    assert status["visibility"] == "public"
    _one_media(status, "audio", track["url"][0]["href"])

    # Mobilizon: an event.
    tcit = fake.actor_uri("tcit")
    event = remote_objects.mobilizon_event(origin, tcit)
    await _deliver(home, fake, _create(event, tcit), "tcit")
    status = await _via_api(alice, home, event["id"])
    assert status["content"].startswith("<p><strong>Mobilizon Launching Party</strong></p>")
    assert "2026-12-18 13:00" in status["content"] and "Nantes" in status["content"]
    assert f'<a href="{event["id"]}">' in status["content"]
    _one_media(status, "image", f"{origin}/media/8a7d6c5b4a39.jpg")

    # They are in the public timeline like any post.
    public = await alice.get("/api/v1/timelines/public", params={"limit": "40"})
    uris = {s["uri"] for s in public}
    assert {video["id"], photo_note["id"], image["id"], track["id"], event["id"]} <= uris


async def test_announced_video_and_searched_event_are_fetched(
    instances: InstanceFactory,
    session: aiohttp.ClientSession,
    peer: tuple[FakePeer, dict[str, dict[str, Any]]],
) -> None:
    fake, objects = peer
    home = await instances("home", backend="sqlite")
    alice = await make_client(home, session, "alice")
    origin = f"http://{fake.domain}"

    # A PeerTube channel announces a video by reference: it is fetched from its origin.
    tube = fake.actor_uri("tube")
    video = remote_objects.peertube_video(origin, tube, f"{origin}/video-channels/tour")
    objects[f"/videos/watch/{remote_objects.UUID}"] = video
    await _deliver(home, fake, {"@context": AS, "id": f"{origin}/videos/watch/x/announces/1",
                                "type": "Announce", "actor": fake.actor_uri("ana"),
                                "object": video["id"], "to": [PUBLIC]}, "ana")  # fmt: skip
    status = await _via_api(alice, home, video["id"])
    _one_media(status, "video", f"{origin}/static/web-videos/{remote_objects.UUID}-720.mp4")

    # An app pastes the URL of a Mobilizon event into search.
    tcit = fake.actor_uri("tcit")
    event = remote_objects.mobilizon_event(origin, tcit)
    objects["/events/252d5816-00a3-4a89-a66f-15bf65c33e39"] = event
    found = await alice.get(
        "/api/v2/search", params={"q": event["id"], "resolve": "true", "type": "statuses"}
    )
    [status] = found["statuses"]
    assert status["uri"] == event["id"]
    assert status["content"].startswith("<p><strong>Mobilizon Launching Party</strong></p>")
    assert status["account"]["acct"] == f"tcit@{fake.domain}"
    _one_media(status, "image", f"{origin}/media/8a7d6c5b4a39.jpg")

    # And a bare Image the same way.
    ana = fake.actor_uri("ana")
    image = remote_objects.bare_image(origin, ana)
    objects["/photos/42"] = image
    found = await alice.get(
        "/api/v2/search", params={"q": image["id"], "resolve": "true", "type": "statuses"}
    )
    [status] = found["statuses"]
    _one_media(status, "image", f"{origin}/media/harbour-2048.jpg")


async def test_reject_media_strips_media_carried_in_url(
    instances: InstanceFactory,
    session: aiohttp.ClientSession,
    peer: tuple[FakePeer, dict[str, dict[str, Any]]],
) -> None:
    fake, _ = peer
    home = await instances(
        "home",
        policy={"domain_blocks": [{"domain": fake.domain, "severity": "noop",
                                   "reject_media": True}]},
    )  # fmt: skip
    alice = await make_client(home, session, "alice")
    origin = f"http://{fake.domain}"
    tube = fake.actor_uri("tube")
    video = remote_objects.peertube_video(origin, tube, f"{origin}/video-channels/tour")
    await _deliver(home, fake, _create(video, tube), "tube")
    status = await _via_api(alice, home, video["id"])
    # The post arrives (title and link), its video does not.
    assert status["media_attachments"] == []
    assert status["url"] == video["id"] and video["id"] in status["content"]


async def test_a_titled_image_replying_to_a_poll_is_a_reply_not_a_vote(
    instances: InstanceFactory,
    session: aiohttp.ClientSession,
    peer: tuple[FakePeer, dict[str, dict[str, Any]]],
) -> None:
    fake, _ = peer
    home = await instances("home", backend="sqlite")
    alice = await make_client(home, session, "alice")
    poll = await alice.status(
        "tea or coffee?", poll={"options": ["tea", "coffee"], "expires_in": 3600}
    )
    origin = f"http://{fake.domain}"
    ana = fake.actor_uri("ana")
    # Named like an option, no content, replying to the poll: the shape of a vote, but an Image.
    image = {**remote_objects.bare_image(origin, ana), "name": "tea", "inReplyTo": poll["uri"]}
    del image["summary"]
    await _deliver(home, fake, _create(image, ana), "ana")
    status = await _via_api(alice, home, image["id"])
    assert status["in_reply_to_id"] == poll["id"]
    _one_media(status, "image", f"{origin}/media/harbour-2048.jpg")
    after = await alice.get(f"/api/v1/statuses/{poll['id']}")
    assert after["poll"]["votes_count"] == 0
