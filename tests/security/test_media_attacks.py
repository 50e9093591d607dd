"""Hostile uploads: what an authenticated user can make the server decode."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from fedinode.errors import ValidationFailed
from fedinode.services.media import process_image
from fedinode.services.media_files import LocalMediaFiles


def _gif(size: int, frames: int) -> bytes:
    out = io.BytesIO()
    images = [Image.new("RGB", (size, size), (i * 3 % 256, 0, 0)) for i in range(frames)]
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=10, loop=0)
    return out.getvalue()


def test_animated_gif_bomb_is_refused_before_decoding_its_frames() -> None:
    # Each frame is within the per-image limit, but 64 of them decode to 16× the limit
    # (a few kilobytes on the wire, gigabytes in memory at realistic sizes).
    data = _gif(500, 64)
    assert len(data) < 200_000
    with pytest.raises(ValidationFailed):
        process_image(data, max_pixels=250_000, thumbnail_size=64)


def test_small_animation_is_still_accepted() -> None:
    processed = process_image(_gif(100, 10), max_pixels=250_000, thumbnail_size=64)
    assert processed.content_type == "image/gif"


def test_huge_dimensions_and_non_images_are_refused() -> None:
    out = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(out, "PNG")
    with pytest.raises(ValidationFailed):
        process_image(out.getvalue(), max_pixels=16_777_216, thumbnail_size=64)
    with pytest.raises(ValidationFailed):
        process_image(b"<svg onload=alert(1)></svg>", max_pixels=16_777_216, thumbnail_size=64)
    with pytest.raises(ValidationFailed):
        process_image(b"%PDF-1.4 not an image", max_pixels=16_777_216, thumbnail_size=64)


@pytest.mark.parametrize(
    "path", ["../secret", "a/../../secret", "/etc/passwd", "..%2fsecret", "a\\..\\secret", "a\x00b"]
)
def test_media_paths_stay_under_the_root(tmp_path: object, path: str) -> None:
    from pathlib import Path

    root = Path(str(tmp_path)) / "media"
    root.mkdir()
    (Path(str(tmp_path)) / "secret").write_text("x")
    assert LocalMediaFiles(str(root)).resolve(path) is None
