"""Accounts: credentials, profile updates, lookup, follows (locked → requested), notes,
relationships, follow requests, mutes with duration, featured tags."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from api_helpers import Api
from s3_rig import MediaOn, stored_files

from fedinode.config import Config


async def test_verify_and_update_credentials(api: Api) -> None:
    alice = await api.user("alice")
    me = await alice.json("get", "/api/v1/accounts/verify_credentials")
    assert me["acct"] == "alice" and me["source"]["privacy"] == "public"
    assert me["avatar"] == "https://local.test/static/avatar.png"
    assert me["created_at"].endswith("T00:00:00.000Z")
    avatar = await api.client.get("/static/avatar.png")
    assert avatar.status == 200 and (await avatar.read()).startswith(b"\x89PNG")
    updated = await alice.json(
        "patch",
        "/api/v1/accounts/update_credentials",
        data=[
            ("display_name", "Alice ✨"),
            ("note", "Hello <world>\nhttps://example.com"),
            ("locked", "true"),
            ("fields_attributes[0][name]", "Site"),
            ("fields_attributes[0][value]", "https://alice.example"),
            ("source[privacy]", "private"),
            ("source[language]", "de"),
        ],
    )
    assert updated["display_name"] == "Alice ✨" and updated["locked"] is True
    assert (
        "&lt;world&gt;" in updated["note"]
        and updated["source"]["note"] == "Hello <world>\nhttps://example.com"
    )
    assert (
        updated["fields"][0]["name"] == "Site"
        and 'href="https://alice.example"' in updated["fields"][0]["value"]
    )
    assert updated["source"]["fields"][0]["value"] == "https://alice.example"
    assert updated["source"]["privacy"] == "private" and updated["source"]["language"] == "de"
    prefs = await alice.json("get", "/api/v1/preferences")
    assert prefs["posting:default:visibility"] == "private"
    # The default privacy applies to new posts.
    assert (await alice.status("default"))["visibility"] == "private"


async def test_lookup_search_and_get(api: Api) -> None:
    alice = await api.user("alice")
    assert (await api.anon("/api/v1/accounts/lookup?acct=alice"))["id"] == alice.id
    assert (await api.anon("/api/v1/accounts/lookup?acct=alice@local.test"))["id"] == alice.id
    assert (await api.client.get("/api/v1/accounts/lookup?acct=ghost")).status == 404
    found = await alice.json("get", "/api/v1/accounts/search?q=ali")
    assert [a["acct"] for a in found] == ["alice"]
    assert (await api.anon(f"/api/v1/accounts/{alice.id}"))["username"] == "alice"
    assert (await api.client.get("/api/v1/accounts/999")).status == 404


async def test_follow_locked_requests_and_relationships(api: Api) -> None:
    alice = await api.user("alice", locked=True)
    bob = await api.user("bob")
    rel = await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    assert rel["requested"] is True and rel["following"] is False
    reqs = await alice.json("get", "/api/v1/follow_requests")
    assert [a["id"] for a in reqs] == [bob.id]
    assert [n["type"] for n in await alice.json("get", "/api/v1/notifications")] == [
        "follow_request"
    ]
    me = await alice.json("get", "/api/v1/accounts/verify_credentials")
    assert me["source"]["follow_requests_count"] == 1
    rel = await alice.json("post", f"/api/v1/follow_requests/{bob.id}/authorize")
    assert rel["followed_by"] is True
    me = await alice.json("get", "/api/v1/accounts/verify_credentials")
    assert (me["source"]["follow_requests_count"], me["followers_count"]) == (0, 1)
    rel = (await bob.json("get", f"/api/v1/accounts/relationships?id[]={alice.id}"))[0]
    assert rel["following"] is True and rel["requested"] is False
    followers = await bob.json("get", f"/api/v1/accounts/{alice.id}/followers")
    assert [a["id"] for a in followers] == [bob.id]
    following = await bob.json("get", f"/api/v1/accounts/{bob.id}/following")
    assert [a["id"] for a in following] == [alice.id]

    # Follow with options, notes, removal from followers.
    rel = await bob.json(
        "post", f"/api/v1/accounts/{alice.id}/follow", json={"reblogs": False, "notify": True}
    )
    assert rel["showing_reblogs"] is False and rel["notifying"] is True
    rel = await bob.json(
        "post", f"/api/v1/accounts/{alice.id}/note", json={"comment": "met at a conf"}
    )
    assert rel["note"] == "met at a conf"
    await alice.json("post", f"/api/v1/accounts/{bob.id}/remove_from_followers")
    rel = (await bob.json("get", f"/api/v1/accounts/relationships?id[]={alice.id}"))[0]
    assert rel["following"] is False

    carol = await api.user("carol")
    await carol.json("post", f"/api/v1/accounts/{alice.id}/follow")
    await alice.json("post", f"/api/v1/follow_requests/{carol.id}/reject")
    rel = (await carol.json("get", f"/api/v1/accounts/relationships?id[]={alice.id}"))[0]
    assert rel["following"] is False and rel["requested"] is False


async def test_follow_notifies_and_unfollow(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    rel = await bob.json("post", f"/api/v1/accounts/{alice.id}/follow")
    assert rel["following"] is True
    notes = await alice.json("get", "/api/v1/notifications")
    assert [(n["type"], n["account"]["id"]) for n in notes] == [("follow", bob.id)]
    assert (await alice.json("get", f"/api/v1/accounts/{alice.id}"))["followers_count"] == 1
    rel = await bob.json("post", f"/api/v1/accounts/{alice.id}/unfollow")
    assert rel["following"] is False
    assert (await alice.json("get", f"/api/v1/accounts/{alice.id}"))["followers_count"] == 0


async def test_mutes_blocks_lists_and_featured_tags(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    rel = await alice.json(
        "post", f"/api/v1/accounts/{bob.id}/mute", json={"duration": 3600, "notifications": False}
    )
    assert (
        rel["muting"] is True and rel["muting_notifications"] is False and rel["muting_expires_at"]
    )
    assert [a["id"] for a in await alice.json("get", "/api/v1/mutes")] == [bob.id]
    await alice.json("post", f"/api/v1/accounts/{bob.id}/block")
    assert [a["id"] for a in await alice.json("get", "/api/v1/blocks")] == [bob.id]
    assert (await bob.post(f"/api/v1/accounts/{alice.id}/follow")).status == 403
    await alice.json("post", f"/api/v1/accounts/{bob.id}/unblock")
    assert await alice.json("get", "/api/v1/blocks") == []

    await alice.status("#Cats are great")
    ft = await alice.json("post", "/api/v1/featured_tags", json={"name": "Cats"})
    assert ft["name"].casefold() == "cats" and ft["statuses_count"] == "1"
    listed = await api.anon(f"/api/v1/accounts/{alice.id}/featured_tags")
    assert [t["name"].casefold() for t in listed] == ["cats"]
    await alice.json("delete", f"/api/v1/featured_tags/{ft['id']}")
    assert await api.anon(f"/api/v1/accounts/{alice.id}/featured_tags") == []


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


async def test_avatar_and_header_uploads(
    aiohttp_client: Any, config: Config, tmp_path: Path, media_config: MediaOn
) -> None:
    """On both media backends: a folder and an S3 bucket."""
    import aiohttp

    from fedinode.app import create_app

    configured = media_config(config, tmp_path)
    api = Api(client=await aiohttp_client(create_app(configured)), config=configured)
    alice = await api.user("alice")

    def upload(**files: bytes) -> aiohttp.FormData:
        form = aiohttp.FormData()
        form.add_field("display_name", "Alice")
        for name, data in files.items():
            form.add_field(name, data, filename=f"{name}.png", content_type="image/png")
        return form

    updated = await alice.json(
        "patch",
        "/api/v1/accounts/update_credentials",
        data=upload(avatar=_png(600, 500, (200, 0, 0)), header=_png(100, 80, (0, 0, 200))),
    )
    avatar = updated["avatar"]
    assert avatar.startswith("https://local.test/media/accounts/avatars/")
    assert avatar.endswith(".png") and updated["avatar_static"] == avatar
    assert updated["header"].startswith("https://local.test/media/accounts/headers/")
    assert updated["header_static"] == updated["header"]
    me = await alice.json("get", "/api/v1/accounts/verify_credentials")
    assert me["avatar"] == avatar and me["display_name"] == "Alice"
    assert (await api.anon(f"/api/v1/accounts/{alice.id}"))["header"] == updated["header"]

    served = await api.client.get(avatar.removeprefix("https://local.test"))
    assert served.status == 200 and served.content_type == "image/png"
    from PIL import Image

    assert Image.open(io.BytesIO(await served.read())).size == (400, 400)
    # The actor document peers fetch (and the Update they are sent) carries the images.
    actor = await api.client.get("/users/alice", headers={"Accept": "application/activity+json"})
    doc = await actor.json(content_type=None)
    assert doc["icon"]["url"] == avatar and doc["image"]["url"] == updated["header"]

    # A new avatar replaces the old file; the header is untouched.
    again = await alice.json(
        "patch",
        "/api/v1/accounts/update_credentials",
        data=upload(avatar=_png(50, 50, (0, 200, 0))),
    )
    assert again["avatar"] != avatar and again["header"] == updated["header"]
    assert (await api.client.get(avatar.removeprefix("https://local.test"))).status == 404
    kept = stored_files(configured)
    assert avatar.split("/media/", 1)[1] not in kept
    assert again["avatar"].split("/media/", 1)[1] in kept
    bad = await alice.patch(
        "/api/v1/accounts/update_credentials", data=upload(avatar=b"not an image")
    )
    assert bad.status == 422
