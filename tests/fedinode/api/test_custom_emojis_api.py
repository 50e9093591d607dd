"""Custom emojis: an admin uploads them (GoToSocial's admin API), apps list them, and
``:shortcode:`` in a status or a display name shows them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import aiohttp
from extras_rig import make_rig
from PIL import Image

from fedinode.config import Config

BASE = "https://local.test"


def png(colour: tuple[int, int, int, int] = (250, 200, 0, 255), size: int = 300) -> bytes:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    for x in range(size // 4, 3 * size // 4):
        for y in range(size // 4, 3 * size // 4):
            image.putpixel((x, y), colour)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=None)
    return out.getvalue()


def emoji_form(data: bytes, **fields: str) -> aiohttp.FormData:
    body = aiohttp.FormData()
    body.add_field("image", data, filename="e.png", content_type="image/png")
    for key, value in fields.items():
        body.add_field(key, value)
    return body


async def test_admin_uploads_an_emoji_and_statuses_and_names_show_it(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    admin = await rig.user("root", scopes="read write admin:read admin:write", admin=True)
    alice = await rig.user("alice")

    created = await admin.call(
        "POST",
        "/api/v1/admin/custom_emojis",
        data=emoji_form(png(), shortcode="blobcat", category="cats"),
    )
    assert created["shortcode"] == "blobcat"
    assert created["category"] == "cats"
    assert created["disabled"] is False and created["domain"] is None
    assert created["url"].startswith(f"{BASE}/media/emojis/")
    assert created["static_url"].startswith(f"{BASE}/media/emojis/")
    # Re-encoded like uploads; the static image is small enough for a picker.
    served = await rig.client.get(created["static_url"].removeprefix(BASE))
    assert served.status == 200
    assert max(Image.open(io.BytesIO(await served.read())).size) <= 128

    listed = await rig.client.get("/api/v1/custom_emojis")
    assert [(e["shortcode"], e["category"]) for e in await listed.json()] == [("blobcat", "cats")]

    # Only admins, and only a valid shortcode once.
    await alice.call(
        "POST", "/api/v1/admin/custom_emojis", expect=403, data=emoji_form(png(), shortcode="x2")
    )
    await admin.call(
        "POST", "/api/v1/admin/custom_emojis", expect=422, data=emoji_form(png(), shortcode="blobcat")
    )
    await admin.call(
        "POST", "/api/v1/admin/custom_emojis", expect=422, data=emoji_form(png(), shortcode="a b")
    )

    status = await alice.call("POST", "/api/v1/statuses", json={"status": "hi :blobcat: :nope:"})
    assert [(e["shortcode"], e["url"]) for e in status["emojis"]] == [
        ("blobcat", created["url"])
    ]
    me = await alice.call(
        "PATCH", "/api/v1/accounts/update_credentials", json={"display_name": "Alice :blobcat:"}
    )
    assert [e["shortcode"] for e in me["emojis"]] == ["blobcat"]

    # A new image and category; the status keeps the image it was posted with.
    modified = await admin.call(
        "PATCH",
        f"/api/v1/admin/custom_emojis/{created['id']}",
        data=emoji_form(png((10, 10, 250, 255)), type="modify", category="blobs"),
    )
    assert modified["category"] == "blobs" and modified["url"] != created["url"]
    kept = await alice.call("GET", f"/api/v1/statuses/{status['id']}")
    assert kept["emojis"][0]["url"] == created["url"]
    assert (await rig.client.get(created["url"].removeprefix(BASE))).status == 200
    created = modified

    # Disabled: not offered to apps, not picked up by new statuses.
    disabled = await admin.call(
        "PATCH", f"/api/v1/admin/custom_emojis/{created['id']}", data={"type": "disable"}
    )
    assert disabled["disabled"] is True
    assert await (await rig.client.get("/api/v1/custom_emojis")).json() == []
    later = await alice.call("POST", "/api/v1/statuses", json={"status": "bye :blobcat:"})
    assert later["emojis"] == []
    everything = await admin.call("GET", "/api/v1/admin/custom_emojis")
    assert [e["shortcode"] for e in everything] == ["blobcat"]

    await admin.call("DELETE", f"/api/v1/admin/custom_emojis/{created['id']}")
    await admin.call("GET", f"/api/v1/admin/custom_emojis/{created['id']}", expect=404)
    gone = await rig.client.get(created["url"].removeprefix(BASE))
    assert gone.status == 404


async def test_an_oversized_or_broken_emoji_image_is_refused(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    admin = await rig.user("root", scopes="read write admin:read admin:write", admin=True)
    big = png(size=2000) + b"\0" * config.media.emoji_max_bytes
    await admin.call(
        "POST", "/api/v1/admin/custom_emojis", expect=422, data=emoji_form(big, shortcode="big")
    )
    await admin.call(
        "POST",
        "/api/v1/admin/custom_emojis",
        expect=422,
        data=emoji_form(b"not an image", shortcode="broken"),
    )
    assert await admin.call("GET", "/api/v1/admin/custom_emojis") == []
