"""The blurhash of an upload: Mastodon's 4×3 components over a thumbnail of at most 64 pixels,
stable for a given picture, and decodable back to the picture's colours."""

from __future__ import annotations

import io

import pytest
from blurhash_rs import blurhash_decode
from PIL import Image, ImageStat

from fedinode.services.media import _blurhash, process_image

# The hashes the C encoder of blurhash-python (used through its private module before) gave
# for these exact pixels: switching encoders must not change what clients were sent.
GRADIENT_HASH = "L$HVC+2V$4Scl}ayjvf5gafgfOfd"
GREY_HASH = "LZF~gcD%ofWB00t7j[ofxuayj[WB"
LARGE_GRADIENT_HASH = "L$HV9i2Y$5Sgl|azjtf7gcfjfQfj"
BASE83 = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~")


def picture(width: int = 64, height: int = 48, *, alpha: bool = False) -> Image.Image:
    """A pixel-exact picture (no resampling, so no Pillow version can change it)."""
    image = Image.new("RGBA" if alpha else "RGB", (width, height))
    image.putdata(
        [
            ((x * 255) // (width - 1), (y * 255) // (height - 1), ((x + y) * 7) % 256)
            + ((128,) if alpha else ())
            for y in range(height)
            for x in range(width)
        ]
    )
    return image


def test_hash_is_mastodons_shape_and_stable() -> None:
    first = _blurhash(picture())
    assert first == GRADIENT_HASH
    assert _blurhash(picture()) == first
    # 4×3 components: one size character, one for the maximum AC value, four for the DC
    # colour and two for each of the eleven AC components; the size flag (4-1)+(3-1)*9 = 21
    # is 'L' in base 83.
    assert len(first) == 1 + 1 + 4 + 2 * 11
    assert first[0] == "L"
    assert set(first) <= BASE83


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (picture(alpha=True), GRADIENT_HASH),  # alpha is dropped, as before
        (picture().convert("L"), GREY_HASH),
        (picture(640, 480), LARGE_GRADIENT_HASH),  # thumbnailed to 64×48 first
    ],
)
def test_other_modes_and_sizes_keep_their_hashes(image: Image.Image, expected: str) -> None:
    assert _blurhash(image) == expected


def test_hash_decodes_to_the_pictures_colours() -> None:
    source = picture()
    decoded = blurhash_decode(_blurhash(source) or "", 64, 48)
    assert decoded.size == (64, 48)
    # The average is taken in linear light, so the decoded sRGB mean comes out somewhat brighter.
    for want, got in zip(ImageStat.Stat(source).mean, ImageStat.Stat(decoded).mean, strict=True):
        assert abs(want - got) < 30
    # Left is dark red, right bright red: the hash keeps the horizontal gradient.
    assert decoded.getpixel((2, 24))[0] < decoded.getpixel((61, 24))[0] - 100  # type: ignore[index]


def test_uploads_carry_the_hash() -> None:
    out = io.BytesIO()
    picture().save(out, "PNG")
    processed = process_image(out.getvalue(), max_pixels=10**7, thumbnail_size=400)
    assert processed.blurhash == GRADIENT_HASH
