from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from extras_rig import make_rig
from PIL import Image
from s3_rig import MediaOn, stored_files

from fedinode.config import Config


@pytest.fixture
def config(config: Config, media_config: MediaOn, tmp_path: Path) -> Config:
    """Every test here runs on both media backends: a folder and an S3 bucket."""
    return media_config(config, tmp_path)


def jpeg_with_exif(width: int = 800, height: int = 400) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(width // 2):
        for y in range(0, height, 7):
            image.putpixel((x, y), (10, 10, 240))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "leaky-software 1.0"  # Software
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def form(data: bytes, name: str = "photo.jpg", ctype: str = "image/jpeg", **fields: str) -> Any:
    import aiohttp

    body = aiohttp.FormData()
    body.add_field("file", data, filename=name, content_type=ctype)
    for key, value in fields.items():
        body.add_field(key, value)
    return body


async def test_upload_strips_exif_applies_orientation_and_serves_with_cache_headers(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    original = jpeg_with_exif()
    assert b"SecretCam" in original

    media = await alice.call(
        "POST", "/api/v2/media", data=form(original, description="a red square", focus="0.5,-0.25")
    )
    assert media["type"] == "image"
    assert media["url"].startswith("https://local.test/media/")
    assert media["description"] == "a red square"
    assert media["blurhash"] and len(media["blurhash"]) >= 6
    # Orientation 6 turns 800×400 into 400×800.
    assert media["meta"]["original"] == {"width": 400, "height": 800, "size": "400x800", "aspect": 0.5}
    small = media["meta"]["small"]
    assert max(small["width"], small["height"]) == rig.config.media.thumbnail_size
    assert media["meta"]["focus"] == {"x": 0.5, "y": -0.25}

    path = media["url"].split("https://local.test", 1)[1]
    resp = await rig.client.get(path)
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert resp.content_type == "image/jpeg"
    served = await resp.read()
    assert b"SecretCam" not in served and b"leaky-software" not in served
    image = Image.open(io.BytesIO(served))
    assert image.size == (400, 800)
    assert not image.getexif()

    preview = await rig.client.get(media["preview_url"].split("https://local.test", 1)[1])
    thumb = Image.open(io.BytesIO(await preview.read()))
    assert thumb.size == (small["width"], small["height"])


async def test_v1_upload_get_and_update(aiohttp_client: Any, config: Config, tmp_path: Path) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    bob = await rig.user("bob")
    png = io.BytesIO()
    Image.new("RGBA", (30, 20), (0, 0, 0, 0)).save(png, "PNG")
    media = await alice.call("POST", "/api/v1/media", data=form(png.getvalue(), "x.png", "image/png"))
    assert media["url"].endswith(".png")
    got = await alice.call("GET", f"/api/v1/media/{media['id']}")
    assert got["id"] == media["id"]
    await bob.call("GET", f"/api/v1/media/{media['id']}", expect=404)
    updated = await alice.call(
        "PUT", f"/api/v1/media/{media['id']}", json={"description": "alt", "focus": "-1,1"}
    )
    assert updated["description"] == "alt"
    assert updated["meta"]["focus"] == {"x": -1.0, "y": 1.0}
    await alice.call("PUT", f"/api/v1/media/{media['id']}", json={"focus": "2,0"}, expect=422)
    await bob.call("PUT", f"/api/v1/media/{media['id']}", json={"description": "x"}, expect=404)


async def test_rejects_non_images_oversized_and_missing_scope(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice")
    body = await alice.call(
        "POST", "/api/v2/media", data=form(b"%PDF-1.4 not an image", "x.pdf", "application/pdf"), expect=422
    )
    assert "error" in body
    bmp = io.BytesIO()
    Image.new("RGB", (4, 4)).save(bmp, "BMP")
    await alice.call("POST", "/api/v2/media", data=form(bmp.getvalue(), "x.bmp", "image/bmp"), expect=422)
    await alice.call("POST", "/api/v2/media", data={"description": "no file"}, expect=422)

    reader = await rig.user("reader", scopes="read")
    await reader.call("POST", "/api/v2/media", data=form(jpeg_with_exif(8, 8)), expect=403)
    resp = await rig.client.post("/api/v2/media", data=form(jpeg_with_exif(8, 8)))
    assert resp.status == 401


async def test_pixel_limit(aiohttp_client: Any, config: Config, tmp_path: Path) -> None:
    import dataclasses

    tight = dataclasses.replace(config, media=dataclasses.replace(config.media, max_image_pixels=100))
    rig = await make_rig(aiohttp_client, tight, tmp_path)
    alice = await rig.user("alice")
    body = await alice.call("POST", "/api/v2/media", data=form(jpeg_with_exif(20, 20)), expect=422)
    assert "pixels" in body["error"]
    await alice.call("POST", "/api/v2/media", data=form(jpeg_with_exif(10, 10)))


async def test_media_path_traversal_is_refused(aiohttp_client: Any, config: Config, tmp_path: Path) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    (tmp_path / "secret.txt").write_text("top secret")
    for path in ("/media/../secret.txt", "/media/%2e%2e/secret.txt", "/media/..%2fsecret.txt", "/media/attachments"):
        resp = await rig.client.get(path)
        assert resp.status == 404, path
        assert "top secret" not in await resp.text()


async def test_delete_unattached_media_removes_files(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice, bob = await rig.user("alice"), await rig.user("bob")
    media = await alice.call("POST", "/api/v2/media", data=form(jpeg_with_exif(40, 30)))
    paths = [media[k].split("https://local.test", 1)[1] for k in ("url", "preview_url")]
    assert [(await rig.client.get(p)).status for p in paths] == [200, 200]

    await bob.call("DELETE", f"/api/v1/media/{media['id']}", expect=404)
    reader = await rig.user("reader", scopes="read")
    await reader.call("DELETE", f"/api/v1/media/{media['id']}", expect=403)
    assert await alice.call("DELETE", f"/api/v1/media/{media['id']}") == {}
    assert [(await rig.client.get(p)).status for p in paths] == [404, 404]
    assert stored_files(rig.config) == []
    await alice.call("GET", f"/api/v1/media/{media['id']}", expect=404)
    await alice.call("DELETE", f"/api/v1/media/{media['id']}", expect=404)
    await alice.call("DELETE", "/api/v1/media/nope", expect=404)

    # Media a status uses stays, files and all.
    used = await alice.call("POST", "/api/v2/media", data=form(jpeg_with_exif(40, 30)))
    await alice.call("POST", "/api/v1/statuses", json={"status": "pic", "media_ids": [used["id"]]})
    body = await alice.call("DELETE", f"/api/v1/media/{used['id']}", expect=422)
    assert body["error"] == "Media attachment is currently used by a status"
    assert (await rig.client.get(used["url"].split("https://local.test", 1)[1])).status == 200
