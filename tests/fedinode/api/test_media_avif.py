"""Every image type /api/v2/instance advertises uploads, AVIF included (as Mastodon lists it)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from extras_rig import make_rig
from PIL import Image
from test_media import form

from fedinode.config import Config

_PILLOW = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/avif": "AVIF",
}


def picture(fmt: str, size: tuple[int, int] = (320, 200)) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    for x in range(0, size[0], 9):
        for y in range(size[1]):
            image.putpixel((x, y), (240, 200, 10))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


async def test_avif_upload_is_kept_as_avif_with_a_webp_preview(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    media = await alice.call(
        "POST", "/api/v2/media", data=form(picture("AVIF"), "photo.avif", "image/avif")
    )
    assert media["type"] == "image" and media["url"].endswith(".avif")
    assert media["meta"]["original"]["width"] == 320 and media["blurhash"]
    served = await rig.client.get(media["url"].split("https://local.test", 1)[1])
    assert served.status == 200 and served.content_type == "image/avif"
    image = Image.open(io.BytesIO(await served.read()))
    assert image.format == "AVIF" and image.size == (320, 200)
    preview = await rig.client.get(media["preview_url"].split("https://local.test", 1)[1])
    assert Image.open(io.BytesIO(await preview.read())).format == "WEBP"
    status = await alice.call(
        "POST", "/api/v1/statuses", json={"status": "x", "media_ids": [media["id"]]}
    )
    assert status["media_attachments"][0]["id"] == media["id"]


async def test_every_advertised_image_type_uploads(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    instance = await (await rig.client.get("/api/v2/instance")).json()
    advertised = instance["configuration"]["media_attachments"]["supported_mime_types"]
    images = [t for t in advertised if t.startswith("image/")]
    assert "image/avif" in images
    for ctype in images:
        if ctype not in _PILLOW:
            pytest.fail(f"advertised {ctype} has no test picture")
        data = picture(_PILLOW[ctype])
        media = await alice.call("POST", "/api/v2/media", data=form(data, "p", ctype))
        assert media["type"] == "image", ctype


async def test_avif_avatar_becomes_webp(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    import aiohttp

    body = aiohttp.FormData()
    body.add_field(
        "avatar", picture("AVIF", (500, 500)), filename="me.avif", content_type="image/avif"
    )
    me = await alice.call("PATCH", "/api/v1/accounts/update_credentials", data=body)
    assert me["avatar"].endswith(".webp")
