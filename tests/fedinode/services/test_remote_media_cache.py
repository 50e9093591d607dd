"""The remote media cache end to end: a fake peer on loopback serves an actor with an avatar
and a Note with a photo; once the worker has run, the client API shows our copies (EXIF
gone) with the peer's URLs as ``remote_url``; refused files, reject_media, pruning and the
budget fall back to the remote URLs. Each test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image
from s3_rig import MediaOn, stored_files

from activitypub.fetch import make_client_session
from activitypub.keys import generate_keypair
from fedinode import appkeys
from fedinode.app import create_app
from fedinode.config import Config
from fedinode.federation import federator_of
from fedinode.media_cli import prune_cache
from fedinode.remote_media import MEDIA_CACHE_WORKER
from fedinode.services.media_cache import FetchLimits, MediaCacheWorker, Refused, fetch_file
from policy.settings import DomainBlock
from storage.ids import now_ms

AS = "https://www.w3.org/ns/activitystreams"
DAY_MS = 86_400_000


def jpeg_with_exif(
    width: int = 640, height: int = 480, colour: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "leaky-software 1.0"  # Software
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@dataclass
class Peer:
    """A remote server: actor ``bob``, notes, and files by path with their content type."""

    server: TestServer
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    file_hits: list[str] = field(default_factory=list)
    unavailable: set[str] = field(default_factory=set)  # names answered with 503
    public_pem: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def file_url(self, name: str) -> str:
        return f"{self.base}/files/{name}"

    def note(self, number: int, attachments: list[tuple[str, str]]) -> str:
        uri = f"{self.base}/notes/{number}"
        self.notes[str(number)] = {
            "@context": AS,
            "id": uri,
            "type": "Note",
            "attributedTo": f"{self.base}/users/bob",
            "content": f"<p>photo {number}</p>",
            "published": "2026-01-01T00:00:00Z",
            "to": [f"{AS}#Public"],
            "attachment": [
                {
                    "type": "Document",
                    "mediaType": mtype,
                    "url": self.file_url(name),
                    "name": "a photo",
                    "width": 320,
                    "height": 240,
                }
                for name, mtype in attachments
            ],
        }
        return uri


async def start_peer() -> Peer:
    app = web.Application()
    peer = Peer(server=TestServer(app, host="127.0.0.1"))
    peer.public_pem = generate_keypair()[1]

    async def actor(request: web.Request) -> web.Response:
        uri = f"{peer.base}/users/bob"
        doc = {
            "@context": [AS, "https://w3id.org/security/v1"],
            "id": uri,
            "type": "Person",
            "preferredUsername": "bob",
            "name": "Bob",
            "inbox": f"{uri}/inbox",
            "outbox": f"{uri}/outbox",
            "icon": {
                "type": "Image",
                "mediaType": "image/jpeg",
                "url": peer.file_url("avatar.jpg"),
            },
            "image": {
                "type": "Image",
                "mediaType": "image/png",
                "url": peer.file_url("header.png"),
            },
            "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": peer.public_pem},
        }
        return web.json_response(doc, content_type="application/activity+json")

    async def note(request: web.Request) -> web.Response:
        doc = peer.notes.get(request.match_info["n"])
        if doc is None:
            raise web.HTTPNotFound()
        return web.json_response(doc, content_type="application/activity+json")

    async def file(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        peer.file_hits.append(name)
        if name in peer.unavailable:
            raise web.HTTPServiceUnavailable()
        found = peer.files.get(name)
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(body=found[1], content_type=found[0])

    app.router.add_get("/users/bob", actor)
    app.router.add_get("/notes/{n}", note)
    app.router.add_get("/files/{name}", file)
    await peer.server.start_server()
    return peer


@pytest.fixture
def config(config: Config, media_config: MediaOn, tmp_path: Path) -> Config:
    """The tests with a home instance run on both media backends: a folder and a bucket."""
    return media_config(config, tmp_path)


@pytest.fixture
async def peer() -> Any:
    p = await start_peer()
    p.files["avatar.jpg"] = ("image/jpeg", jpeg_with_exif(300, 300, (20, 200, 20)))
    p.files["photo.jpg"] = ("image/jpeg", jpeg_with_exif())
    header = io.BytesIO()
    Image.new("RGB", (3000, 1000), (0, 0, 120)).save(header, "PNG")
    p.files["header.png"] = ("image/png", header.getvalue())
    yield p
    await p.server.close()


@dataclass
class Home:
    client: TestClient[Any, Any]
    config: Config

    @property
    def worker(self) -> MediaCacheWorker:
        return self.client.app[MEDIA_CACHE_WORKER]

    async def resolve(self, uri: str) -> str:
        status = await federator_of(self.client.app).resolve_status(uri)
        assert status is not None
        return str(status.id)

    async def status(self, status_id: str) -> dict[str, Any]:
        resp = await self.client.get(f"/api/v1/statuses/{status_id}")
        assert resp.status == 200, await resp.text()
        body: dict[str, Any] = await resp.json()
        return body

    async def fetch_local(self, url: str) -> tuple[int, bytes]:
        assert url.startswith(self.config.base_url + "/media/cache/"), url
        resp = await self.client.get(url[len(self.config.base_url) :])
        return resp.status, await resp.read()


async def start_home(aiohttp_client: Any, config: Config, tmp_path: Path, **media: Any) -> Home:
    config = dataclasses.replace(
        config,
        instance=dataclasses.replace(config.instance, domain="home.test"),
        federation=dataclasses.replace(
            config.federation, scheme="http", allow_private_addresses=True
        ),
        media=dataclasses.replace(config.media, directory=str(tmp_path / "media"), **media),
    )
    client = await aiohttp_client(create_app(config))
    return Home(client=client, config=client.app[appkeys.CONFIG])


async def test_remote_avatar_and_photo_are_served_from_here_without_exif(
    aiohttp_client: Any, config: Config, tmp_path: Path, peer: Peer
) -> None:
    home = await start_home(aiohttp_client, config, tmp_path)
    status_id = await home.resolve(peer.note(1, [("photo.jpg", "image/jpeg")]))
    before = await home.status(status_id)
    # Until the worker has run, the remote URLs are shown, as Mastodon does.
    assert before["media_attachments"][0]["url"] == peer.file_url("photo.jpg")
    assert before["account"]["avatar"] == peer.file_url("avatar.jpg")

    assert await home.worker.drain() >= 3
    after = await home.status(status_id)
    media = after["media_attachments"][0]
    assert media["remote_url"] == peer.file_url("photo.jpg")
    status, body = await home.fetch_local(media["url"])
    assert status == 200
    assert b"SecretCam" not in body and b"leaky-software" not in body
    image = Image.open(io.BytesIO(body))
    assert image.size == (640, 480)
    assert not image.getexif()
    assert media["preview_url"] != media["url"]
    status, preview = await home.fetch_local(media["preview_url"])
    assert (
        status == 200
        and max(Image.open(io.BytesIO(preview)).size) <= home.config.media.thumbnail_size
    )
    assert media["blurhash"]

    account = after["account"]
    assert account["avatar"] == account["avatar_static"]
    status, avatar = await home.fetch_local(account["avatar"])
    assert status == 200
    assert Image.open(io.BytesIO(avatar)).size == (400, 400)
    assert b"SecretCam" not in avatar
    assert account["header"] == account["header_static"]
    status, header = await home.fetch_local(account["header"])
    assert status == 200 and Image.open(io.BytesIO(header)).size == (1500, 500)
    # Each file was fetched once; a second run fetches nothing.
    assert sorted(peer.file_hits) == ["avatar.jpg", "header.png", "photo.jpg"]
    assert await home.worker.drain() == 0
    assert sorted(peer.file_hits) == ["avatar.jpg", "header.png", "photo.jpg"]


async def test_huge_or_wrong_type_files_keep_their_remote_urls(
    aiohttp_client: Any, config: Config, tmp_path: Path, peer: Peer
) -> None:
    home = await start_home(aiohttp_client, config, tmp_path, remote_image_max_bytes=200_000)
    peer.files["huge.jpg"] = ("image/jpeg", jpeg_with_exif(4000, 3000) + b"\0" * 300_000)
    peer.files["page.jpg"] = ("text/html", b"<html>not an image</html>")
    peer.files["fake.jpg"] = ("image/jpeg", b"not really a jpeg at all")
    peer.files["clip.mkv"] = ("video/x-matroska", b"\x1a\x45\xdf\xa3" + b"\0" * 100)
    peer.files["clip.mp4"] = ("video/mp4", b"\0\0\0\x18ftypmp42" + b"\0" * 100)
    status_id = await home.resolve(
        peer.note(
            2,
            [
                ("huge.jpg", "image/jpeg"),
                ("page.jpg", "image/jpeg"),
                ("fake.jpg", "image/jpeg"),
                ("clip.mkv", "video/x-matroska"),
                ("clip.mp4", "video/mp4"),
            ],
        )
    )
    await home.worker.drain()
    media = (await home.status(status_id))["media_attachments"]
    by_remote = {m["remote_url"].rsplit("/", 1)[1]: m for m in media}
    for name in ("huge.jpg", "page.jpg", "fake.jpg", "clip.mkv"):
        assert by_remote[name]["url"] == peer.file_url(name), name
    # An allowed video type under the cap is cached as it is (no transcoding).
    mp4 = by_remote["clip.mp4"]
    status, body = await home.fetch_local(mp4["url"])
    assert status == 200 and body == peer.files["clip.mp4"][1]
    store = home.client.app[appkeys.STORE]
    errors = {}
    for name, m in by_remote.items():
        row = await store.media_cache.get("attachment", int(m["id"]))
        assert row is not None
        errors[name] = (row.state, row.last_error)
    assert errors["clip.mp4"] == ("cached", "")
    assert errors["huge.jpg"][0] == "refused" and "limit" in errors["huge.jpg"][1]
    assert errors["page.jpg"][0] == "refused" and "text/html" in errors["page.jpg"][1]
    assert errors["fake.jpg"][0] == "refused" and "invalid" in errors["fake.jpg"][1]
    assert errors["clip.mkv"][0] == "refused" and "video/x-matroska" in errors["clip.mkv"][1]
    # The origin's width and height stay on a file cached as it is.
    assert mp4["meta"]["original"]["width"] == 320


async def test_reject_media_domain_block_fetches_nothing(
    aiohttp_client: Any, config: Config, tmp_path: Path, peer: Peer
) -> None:
    block = DomainBlock(domain="127.0.0.1", severity="noop", reject_media=True)
    config = dataclasses.replace(
        config, policy=dataclasses.replace(config.policy, domain_blocks=(block,))
    )
    home = await start_home(aiohttp_client, config, tmp_path)
    status_id = await home.resolve(peer.note(3, [("photo.jpg", "image/jpeg")]))
    await home.worker.drain()
    assert peer.file_hits == []
    account = (await home.status(status_id))["account"]
    assert account["avatar"] == peer.file_url("avatar.jpg")
    row = await home.client.app[appkeys.STORE].media_cache.get("avatar", int(account["id"]))
    assert row is not None and row.state == "refused"


async def test_prune_removes_old_files_and_the_api_falls_back(
    aiohttp_client: Any,
    config: Config,
    tmp_path: Path,
    peer: Peer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = await start_home(aiohttp_client, config, tmp_path)
    store = home.client.app[appkeys.STORE]
    old_id = await home.resolve(peer.note(4, [("photo.jpg", "image/jpeg")]))
    peer.files["fresh.jpg"] = ("image/jpeg", jpeg_with_exif(100, 100))
    fresh_id = await home.resolve(peer.note(5, [("fresh.jpg", "image/jpeg")]))
    await home.worker.drain()
    old_media = (await home.status(old_id))["media_attachments"][0]
    fresh_media = (await home.status(fresh_id))["media_attachments"][0]
    old_row = await store.media_cache.get("attachment", int(old_media["id"]))
    avatar_row = await store.media_cache.get(
        "avatar", int((await home.status(old_id))["account"]["id"])
    )
    assert old_row is not None and avatar_row is not None
    for row in (old_row, avatar_row):
        await store.media_cache.set_last_access(row.id, now_ms() - 40 * DAY_MS)

    assert await prune_cache(home.config, 30) == 0
    out = capsys.readouterr()
    assert "pruned 2 cached remote file(s)" in out.out
    assert "pruning cached media: 2/2" in out.err  # not a terminal: plain lines

    old_after = await home.status(old_id)
    assert old_after["media_attachments"][0]["url"] == peer.file_url("photo.jpg")
    assert old_after["account"]["avatar"] == peer.file_url("avatar.jpg")
    resp = await home.client.get(old_media["url"][len(home.config.base_url) :])
    assert resp.status == 404  # the file is gone
    left = stored_files(home.config)
    assert old_row.file_path not in left and avatar_row.file_path not in left
    assert old_media["url"].split("/media/", 1)[1] not in left
    assert fresh_media["url"].split("/media/", 1)[1] in left
    fresh_after = (await home.status(fresh_id))["media_attachments"][0]
    assert fresh_after["url"] == fresh_media["url"]
    assert (await home.fetch_local(fresh_after["url"]))[0] == 200


async def test_budget_evicts_the_least_recently_served(
    aiohttp_client: Any, config: Config, tmp_path: Path, peer: Peer
) -> None:
    home = await start_home(aiohttp_client, config, tmp_path)
    store = home.client.app[appkeys.STORE]
    ids = []
    for n in range(3):
        peer.files[f"p{n}.jpg"] = ("image/jpeg", jpeg_with_exif(300, 200, (40 * n, 90, 200)))
        ids.append(await home.resolve(peer.note(10 + n, [(f"p{n}.jpg", "image/jpeg")])))
    await home.worker.drain()
    media = [(await home.status(i))["media_attachments"][0] for i in ids]
    rows = [await store.media_cache.get("attachment", int(m["id"])) for m in media]
    avatar = await store.media_cache.get(
        "avatar", int((await home.status(ids[0]))["account"]["id"])
    )
    assert avatar is not None and all(r is not None and r.state == "cached" for r in rows)
    # p1 was served long ago, p0 a while ago, p2 and the avatar recently.
    for row, days in ((rows[0], 5), (rows[1], 20), (rows[2], 1), (avatar, 1)):
        assert row is not None
        await store.media_cache.set_last_access(row.id, now_ms() - days * DAY_MS)
    sizes = {r.id: r.bytes for r in rows if r is not None}
    total = await store.media_cache.total_bytes()
    budget = total - sizes[rows[1].id] // 2  # type: ignore[union-attr]
    from fedinode.services.media_cache import evict_over_budget

    tight = dataclasses.replace(
        home.config, media=dataclasses.replace(home.config.media, remote_cache_bytes=budget)
    )
    assert await evict_over_budget(store, tight) == 1
    after = [(await home.status(i))["media_attachments"][0] for i in ids]
    assert after[1]["url"] == peer.file_url("p1.jpg")
    assert after[0]["url"] == media[0]["url"] and after[2]["url"] == media[2]["url"]
    assert await store.media_cache.total_bytes() <= budget


async def test_serving_a_cached_file_marks_it_recently_used(
    aiohttp_client: Any, config: Config, tmp_path: Path, peer: Peer
) -> None:
    home = await start_home(aiohttp_client, config, tmp_path)
    store = home.client.app[appkeys.STORE]
    status_id = await home.resolve(peer.note(20, [("photo.jpg", "image/jpeg")]))
    await home.worker.drain()
    media = (await home.status(status_id))["media_attachments"][0]
    row = await store.media_cache.get("attachment", int(media["id"]))
    assert row is not None
    await store.media_cache.set_last_access(row.id, now_ms() - 10 * DAY_MS)
    assert (await home.fetch_local(media["url"]))[0] == 200
    touched = await store.media_cache.get("attachment", int(media["id"]))
    assert touched is not None and touched.last_access_at > now_ms() - DAY_MS


async def test_serving_only_the_thumbnail_keeps_a_copy_from_pruning(
    aiohttp_client: Any, config: Config, tmp_path: Path, peer: Peer
) -> None:
    # Timelines load preview_url; a photo nobody opened full size is still in use.
    home = await start_home(aiohttp_client, config, tmp_path)
    store = home.client.app[appkeys.STORE]
    status_id = await home.resolve(peer.note(21, [("photo.jpg", "image/jpeg")]))
    await home.worker.drain()
    media = (await home.status(status_id))["media_attachments"][0]
    assert media["preview_url"] != media["url"]
    row = await store.media_cache.get("attachment", int(media["id"]))
    assert row is not None
    await store.media_cache.set_last_access(row.id, now_ms() - 10 * DAY_MS)
    assert (await home.fetch_local(media["preview_url"]))[0] == 200
    touched = await store.media_cache.get("attachment", int(media["id"]))
    assert touched is not None and touched.last_access_at > now_ms() - DAY_MS
    await prune_cache(home.config, 5)
    kept = (await home.status(status_id))["media_attachments"][0]
    assert kept["preview_url"] == media["preview_url"] and kept["url"] == media["url"]


def _limits(*, allow_private: bool) -> FetchLimits:
    return FetchLimits(
        scheme="http",
        allow_private=allow_private,
        image_max_bytes=1_000_000,
        video_max_bytes=1_000_000,
        video_types=frozenset({"video/mp4"}),
        timeout_seconds=5.0,
    )


async def test_fetch_goes_through_the_ssrf_guard_and_the_policy_on_every_hop(peer: Peer) -> None:
    async with make_client_session("http", allow_private=False) as guarded:
        with pytest.raises(Refused, match="address refused"):
            await fetch_file(
                guarded,
                peer.file_url("photo.jpg"),
                "attachment",
                _limits(allow_private=False),
                lambda h: None,
            )
    assert peer.file_hits == []

    redirect = web.Application()

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound(peer.file_url("photo.jpg"))

    redirect.router.add_get("/elsewhere", moved)
    other = TestServer(redirect, host="127.0.0.1")
    await other.start_server()
    try:
        refused_host = f"127.0.0.1:{peer.server.port}"

        def refusal(host: str) -> str | None:
            return "media from this domain is rejected" if host == refused_host else None

        async with make_client_session("http", allow_private=True) as session:
            url = f"http://127.0.0.1:{other.port}/elsewhere"
            with pytest.raises(Refused, match="rejected"):
                await fetch_file(session, url, "attachment", _limits(allow_private=True), refusal)
            assert peer.file_hits == []
            content_type, body = await fetch_file(
                session, url, "attachment", _limits(allow_private=True), lambda h: None
            )
            assert content_type == "image/jpeg" and body == peer.files["photo.jpg"][1]
    finally:
        await other.close()


async def test_a_failing_peer_is_tried_again_later_and_the_remote_url_stays(
    aiohttp_client: Any, config: Config, tmp_path: Path, peer: Peer
) -> None:
    home = await start_home(aiohttp_client, config, tmp_path)
    store = home.client.app[appkeys.STORE]
    peer.unavailable.add("later.jpg")
    status_id = await home.resolve(peer.note(30, [("later.jpg", "image/jpeg")]))
    await home.worker.drain()
    media = (await home.status(status_id))["media_attachments"][0]
    assert media["url"] == peer.file_url("later.jpg")
    row = await store.media_cache.get("attachment", int(media["id"]))
    assert row is not None and row.state == "pending" and "503" in row.last_error
    assert row.next_attempt_at > now_ms() + 30_000  # not hammered
    # Once the peer is back, the next attempt caches it.
    peer.files["later.jpg"] = ("image/jpeg", jpeg_with_exif(50, 50))
    peer.unavailable.clear()
    await store.media_cache.make_due()
    await home.worker.drain()
    cached = (await home.status(status_id))["media_attachments"][0]
    assert cached["url"].startswith(home.config.base_url + "/media/cache/")
