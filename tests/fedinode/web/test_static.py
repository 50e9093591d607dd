"""Everything under /static/ that the instance advertises is served."""

from __future__ import annotations

import io
import tomllib
from collections.abc import Awaitable, Callable
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

from api_helpers import Api
from PIL import Image

Site = Callable[..., Awaitable[Api]]


async def test_advertised_thumbnail_is_a_png(site: Site) -> None:
    api = await site()
    v2 = await api.anon("/api/v2/instance")
    v1 = await api.anon("/api/v1/instance")
    url = v2["thumbnail"]["url"]
    assert v1["thumbnail"] == url  # Mastodon's v1 carries it as a string
    assert url == "https://local.test/static/thumbnail.png"
    resp = await api.client.get(urlsplit(url).path)
    assert resp.status == 200 and resp.content_type == "image/png"
    image = Image.open(io.BytesIO(await resp.read()))
    image.verify()
    assert image.format == "PNG" and image.size == (1200, 630)


async def test_default_avatar_and_header_are_served(site: Site) -> None:
    api = await site()
    for name in ("avatar.png", "header.png"):
        resp = await api.client.get(f"/static/{name}")
        assert resp.status == 200 and resp.content_type == "image/png", name
    assert (await api.client.get("/static/nothing.png")).status == 404


def test_thumbnail_ships_in_the_package() -> None:
    # A wheel carries only what package-data names; the thumbnail must be among it.
    root = Path(__file__).parents[3]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = data["package-data"].get("fedinode.web", [])
    assert any(fnmatch("static/thumbnail.png", p) for p in patterns)
    assert (root / "fedinode" / "web" / "static" / "thumbnail.png").is_file()
