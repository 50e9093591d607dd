"""Media on an S3 bucket: streamed through /media/ with ranges, or redirected to public_url."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from extras_rig import make_rig
from s3_rig import make_bucket
from test_media import form, jpeg_with_exif

from fedinode.config import Config


def on_bucket(config: Config, endpoint: str, **media: Any) -> Config:
    return dataclasses.replace(
        config,
        media=dataclasses.replace(
            config.media, backend="s3", s3=make_bucket(endpoint), **media
        ),
    )


async def test_files_stream_from_the_bucket_with_ranges(
    aiohttp_client: Any, config: Config, tmp_path: Path, s3_endpoint: str
) -> None:
    rig = await make_rig(aiohttp_client, on_bucket(config, s3_endpoint), tmp_path)
    alice = await rig.user("alice")
    media = await alice.call("POST", "/api/v2/media", data=form(jpeg_with_exif(64, 48)))
    path = media["url"].split("https://local.test", 1)[1]
    assert not (tmp_path / "media").exists()  # nothing on the local disk

    whole = await rig.client.get(path)
    assert whole.status == 200 and whole.content_type == "image/jpeg"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    body = await whole.read()
    assert body.startswith(b"\xff\xd8") and int(whole.headers["Content-Length"]) == len(body)

    part = await rig.client.get(path, headers={"Range": "bytes=2-9"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 2-9/{len(body)}"
    assert await part.read() == body[2:10]

    tail = await rig.client.get(path, headers={"Range": "bytes=-4"})
    assert tail.status == 206 and await tail.read() == body[-4:]
    rest = await rig.client.get(path, headers={"Range": f"bytes={len(body) - 3}-"})
    assert rest.status == 206 and await rest.read() == body[-3:]

    past = await rig.client.get(path, headers={"Range": f"bytes={len(body) + 10}-"})
    assert past.status == 416 and past.headers["Content-Range"] == f"bytes */{len(body)}"

    assert (await rig.client.get(path + "x")).status == 404
    assert (await rig.client.get("/media/attachments")).status == 404


async def test_public_url_redirects_to_the_bucket(
    aiohttp_client: Any, config: Config, tmp_path: Path, s3_endpoint: str
) -> None:
    cdn = "https://cdn.example.ir/fedinode-media"
    rig = await make_rig(
        aiohttp_client, on_bucket(config, s3_endpoint, public_url=cdn + "/"), tmp_path
    )
    alice = await rig.user("alice")
    media = await alice.call("POST", "/api/v2/media", data=form(jpeg_with_exif(64, 48)))
    # Stored URLs stay ours, so moving the files elsewhere later breaks no link.
    assert media["url"].startswith("https://local.test/media/attachments/")
    relative = media["url"].split("/media/", 1)[1]
    resp = await rig.client.get(f"/media/{relative}", allow_redirects=False)
    assert resp.status == 302
    assert resp.headers["Location"] == f"{cdn}/{relative}"
    bad = await rig.client.get("/media/..%2fsecret", allow_redirects=False)
    assert bad.status == 404
