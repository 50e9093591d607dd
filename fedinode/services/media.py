"""Uploaded media: validated and re-encoded with Pillow (which drops EXIF), thumbnailed,
blurhashed, and written to the media backend (``media_files.py``: a folder or an S3
bucket); served from ``/media/…``."""

from __future__ import annotations

import asyncio
import io
import secrets
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Protocol

from fedinode.config import Config
from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services.media_files import (
    LocalMediaFiles,
    MediaFiles,
    S3MediaFiles,
    StoredFile,
    media_files,
)
from storage.media import NewMedia
from storage.models import Account, MediaAttachment
from storage.store import Store

if TYPE_CHECKING:
    # Pillow is imported by the functions that decode pictures: a process that never
    # receives an upload does not hold it.
    from PIL import Image

# Pillow format name → (content type, file extension).
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
    "AVIF": ("image/avif", "avif"),
}
# AVIF originals are re-encoded at libavif's fastest speed: about as long as WEBP takes for
# the same picture (≈1 s for 3 megapixels; the default speed took ≈15 s). Previews of AVIF
# uploads are WEBP, which every app decodes (AVIF needs Android 12 or iOS 16).
AVIF_SPEED = 10
AVIF_QUALITY = 75
DESCRIPTION_LIMIT = 1500
# Animations: every frame is decoded and copied, so the budget is over all frames together.
MAX_FRAMES = 1000
ANIMATION_PIXEL_FACTOR = 4
__all__ = ["LocalMediaFiles", "MediaFiles", "S3MediaFiles", "StoredFile", "media_files"]
AVATAR_SIZE = 400
HEADER_SIZE = (1500, 500)


class Upload(Protocol):
    """What aiohttp's FileField offers (and what tests can fake)."""

    @property
    def file(self) -> IO[bytes]: ...

    @property
    def filename(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Processed:
    """The result of decoding and re-encoding one image (pure data, made off the loop)."""

    content_type: str
    extension: str
    original: bytes
    small: bytes
    small_extension: str
    width: int
    height: int
    small_width: int
    small_height: int
    blurhash: str | None


def _read_limited(upload: Upload, max_bytes: int) -> bytes:
    data = upload.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationFailed(f"File is too large (the limit is {max_bytes} bytes)")
    if not data:
        raise ValidationFailed("Validation failed: File is empty")
    return data


def _open_image(data: bytes, max_pixels: int) -> Image.Image:
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        raise ValidationFailed("Validation failed: File content type is invalid") from None
    if image.format not in FORMATS:
        raise ValidationFailed("Validation failed: File content type is invalid")
    width, height = image.size
    if width <= 0 or height <= 0 or width * height > max_pixels:
        raise ValidationFailed(
            f"Validation failed: image dimensions exceed the limit of {max_pixels} pixels"
        )
    try:
        frames = int(getattr(image, "n_frames", 1))
    except (OSError, ValueError, EOFError):
        raise ValidationFailed("Validation failed: File could not be processed") from None
    if frames > MAX_FRAMES or width * height * frames > max_pixels * ANIMATION_PIXEL_FACTOR:
        raise ValidationFailed("Validation failed: the animation is too large")
    return image


def _clean(image: Image.Image) -> Image.Image:
    """Pixels only: orientation applied, every metadata chunk but the colour profile dropped."""
    from PIL import ImageOps

    oriented = ImageOps.exif_transpose(image) or image
    icc = image.info.get("icc_profile")
    clean = oriented.copy()
    clean.info = {"icc_profile": icc} if icc else {}
    return clean


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        rgb = image if image.mode in ("RGB", "L") else image.convert("RGB")
        rgb.save(out, "JPEG", quality=88, optimize=True, **_icc(image))
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True, **_icc(image))
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=85, **_icc(image))
    elif fmt == "AVIF":
        image.save(out, "AVIF", quality=AVIF_QUALITY, speed=AVIF_SPEED, **_icc(image))
    else:  # pragma: no cover - callers pass only the formats above
        raise ValueError(fmt)
    return out.getvalue()


def _icc(image: Image.Image) -> dict[str, Any]:
    icc = image.info.get("icc_profile")
    return {"icc_profile": icc} if icc else {}


def _encode_gif(source: Image.Image) -> bytes:
    """GIFs keep their animation; frames are copied, so comments and extensions are left out."""
    from PIL import ImageSequence

    frames = [frame.copy() for frame in ImageSequence.Iterator(source)]
    durations = [int(f.info.get("duration", 100)) for f in frames]
    for f in frames:
        f.info = {}
    out = io.BytesIO()
    frames[0].save(
        out,
        "GIF",
        save_all=len(frames) > 1,
        append_images=frames[1:],
        duration=durations if len(frames) > 1 else durations[0],
        loop=0,
    )
    return out.getvalue()


def _blurhash(image: Image.Image) -> str | None:
    # 4×3 components over a thumbnail of at most 64 pixels. blurhash-rs takes Pillow images
    # through its public API and is ~50× faster than the C encoder it replaced (same hashes).
    from blurhash_rs import blurhash_encode

    small = image.convert("RGB")
    small.thumbnail((64, 64))
    try:
        return blurhash_encode(small, 4, 3)
    except ValueError:
        return None


def process_image(data: bytes, *, max_pixels: int, thumbnail_size: int) -> Processed:
    """Decode, check and re-encode an upload; CPU-bound, run it in a thread."""
    from PIL import Image

    image = _open_image(data, max_pixels)
    fmt = image.format or ""
    content_type, ext = FORMATS[fmt]
    try:
        image.load()
        if fmt == "GIF":
            original = _encode_gif(image)
            image.seek(0)
            still = _clean(image.convert("RGBA"))
        else:
            still = _clean(image)
            if still.mode == "P":
                still = still.convert("RGBA")
            elif still.mode not in ("RGB", "RGBA", "L", "LA"):
                still = still.convert("RGB")
            original = _encode(still, fmt)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ValidationFailed("Validation failed: File could not be processed") from None
    small = still.copy()
    small.thumbnail((thumbnail_size, thumbnail_size), Image.Resampling.LANCZOS)
    small_fmt = {"GIF": "PNG", "AVIF": "WEBP"}.get(fmt, fmt)
    small_bytes = _encode(small, small_fmt)
    return Processed(
        content_type=content_type,
        extension=ext,
        original=original,
        small=small_bytes,
        small_extension=FORMATS[small_fmt][1],
        width=still.width,
        height=still.height,
        small_width=small.width,
        small_height=small.height,
        blurhash=_blurhash(still),
    )


def media_meta(p: Processed) -> dict[str, dict[str, int]]:
    """What storage keeps of an upload's sizes; the API's ``meta`` (size, aspect, focus) is
    derived from it and the focus columns by ``schemas.media_to_api``."""
    return {
        "original": {"width": p.width, "height": p.height},
        "small": {"width": p.small_width, "height": p.small_height},
    }


def parse_focus(value: str | None) -> tuple[float, float] | None:
    """``"x,y"`` with both in [-1, 1] → (x, y); None when absent; 422 when malformed."""
    if value is None or value == "":
        return None
    try:
        x_text, y_text = value.split(",")
        x, y = float(x_text), float(y_text)
    except ValueError:
        raise ValidationFailed("Validation failed: focus must be two numbers, x,y") from None
    if not (-1.0 <= x <= 1.0 and -1.0 <= y <= 1.0):
        raise ValidationFailed("Validation failed: focus values must be between -1.0 and 1.0")
    return x, y


def check_description(description: str | None) -> str | None:
    if description is not None and len(description) > DESCRIPTION_LIMIT:
        raise ValidationFailed(
            f"Validation failed: Description is too long (maximum is {DESCRIPTION_LIMIT} characters)"
        )
    return description


def _folder(ident: int) -> str:
    # Spread files over directories, as Mastodon does, so no directory grows huge.
    digits = f"{ident:020d}"
    return "/".join(digits[i : i + 3] for i in range(0, 18, 3)) + "/" + digits[18:]


async def upload_media(
    store: Store,
    config: Config,
    account: Account,
    upload: Upload,
    *,
    description: str | None = None,
    focus: tuple[float, float] | None = None,
) -> MediaAttachment:
    """Validate, process and store an uploaded image; the attachment is ready on return."""
    description = check_description(description)
    max_bytes = config.server.max_media_bytes
    data = await asyncio.to_thread(_read_limited, upload, max_bytes)
    return await store_image(store, config, account, data, description=description, focus=focus)


async def store_image(
    store: Store,
    config: Config,
    account: Account,
    data: bytes,
    *,
    description: str | None = None,
    focus: tuple[float, float] | None = None,
) -> MediaAttachment:
    """Process and store an image read from an upload; the attachment is ready on return."""
    processed = await asyncio.to_thread(
        process_image,
        data,
        max_pixels=config.media.max_image_pixels,
        thumbnail_size=config.media.thumbnail_size,
    )
    files = media_files(config)
    # A random part keeps the URLs of unlisted media unguessable from the id alone.
    folder = f"attachments/{_folder(account.id)}/{secrets.token_hex(8)}"
    original_path = f"{folder}/original.{processed.extension}"
    small_path = f"{folder}/small.{processed.small_extension}"
    await asyncio.to_thread(files.write, original_path, processed.original)
    await asyncio.to_thread(files.write, small_path, processed.small)
    fx, fy = focus or (0.0, 0.0)
    return await store.media.create(
        NewMedia(
            account_id=account.id,
            type="image",
            content_type=processed.content_type,
            file_path=original_path,
            preview_path=small_path,
            description=description or "",
            focus_x=fx,
            focus_y=fy,
            blurhash=processed.blurhash,
            meta=media_meta(processed),
            size=len(processed.original),
        )
    )


async def owned_unattached(store: Store, account: Account, media_id: int | None) -> MediaAttachment:
    """The caller's own media that no status uses yet (what Mastodon lets apps read and edit)."""
    media = None if media_id is None else await store.media.get(media_id)
    if media is None or media.account_id != account.id or media.status_id is not None:
        raise NotFoundError()
    return media


async def update_media(
    store: Store,
    account: Account,
    media_id: int | None,
    *,
    description: str | None,
    focus: tuple[float, float] | None,
) -> MediaAttachment:
    media = await owned_unattached(store, account, media_id)
    updated = await store.media.update(
        media.id, description=check_description(description), focus=focus
    )
    if updated is None:
        raise NotFoundError()
    return updated


async def delete_media(
    store: Store, config: Config, account: Account, media_id: int | None
) -> None:
    """Delete the caller's own media and its files, unless a status uses it."""
    media = None if media_id is None else await store.media.get(media_id)
    if media is None or media.account_id != account.id:
        raise NotFoundError()
    reserved = media.id in await store.scheduled_statuses.media_in_use(account.id)
    job = await store.media_jobs.get(media.id)
    deleted = (
        None
        if media.status_id is not None or reserved
        else await store.media.delete_unattached(media.id)
    )
    if deleted is None:
        raise ValidationFailed("Media attachment is currently used by a status")
    files = media_files(config)
    # An upload still being transcoded: its job went with it, the kept upload goes too.
    kept = job.source_path if job is not None else ""
    for relative in (deleted.file_path, deleted.preview_path, kept):
        await asyncio.to_thread(files.remove, relative)


def _square(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    from PIL import Image, ImageOps

    return ImageOps.fit(image, size, Image.Resampling.LANCZOS)


def fit_profile_image(data: bytes, *, max_pixels: int, kind: str) -> tuple[bytes, str]:
    """An avatar (``kind="avatar"``, 400×400) or header (1500×500) re-encoded from ``data``:
    (bytes, file extension). CPU-bound, run it in a thread."""
    image = _open_image(data, max_pixels)
    fmt = image.format or "PNG"
    try:
        image.load()
        still = _clean(image if fmt != "GIF" else image.convert("RGBA"))
    except (OSError, ValueError, SyntaxError):
        raise ValidationFailed("Validation failed: File could not be processed") from None
    if still.mode not in ("RGB", "RGBA", "L", "LA"):
        still = still.convert("RGBA")
    size = (AVATAR_SIZE, AVATAR_SIZE) if kind == "avatar" else HEADER_SIZE
    fitted = _square(still, size)
    out_fmt = "PNG" if fmt in ("GIF", "PNG") else "WEBP" if fmt == "AVIF" else fmt
    return _encode(fitted, out_fmt), FORMATS[out_fmt][1]


async def store_profile_image(
    config: Config, account: Account, upload: Upload, *, kind: str
) -> str:
    """Process an avatar (``kind="avatar"``, 400×400) or header (1500×500) and return its path."""
    data = await asyncio.to_thread(_read_limited, upload, config.server.max_media_bytes)
    body, ext = await asyncio.to_thread(
        fit_profile_image, data, max_pixels=config.media.max_image_pixels, kind=kind
    )
    relative = f"accounts/{kind}s/{_folder(account.id)}/{secrets.token_hex(8)}.{ext}"
    await asyncio.to_thread(media_files(config).write, relative, body)
    return relative


async def store_avatar(store: Store, config: Config, account: Account, upload: Upload) -> str:
    """Process an uploaded avatar and return its public URL (the caller saves it on the account)."""
    del store  # kept in the signature so callers need not change when avatars get rows
    relative = await store_profile_image(config, account, upload, kind="avatar")
    return media_url(config, relative)


async def store_header(store: Store, config: Config, account: Account, upload: Upload) -> str:
    """Process an uploaded header image and return its public URL."""
    del store
    relative = await store_profile_image(config, account, upload, kind="header")
    return media_url(config, relative)


def media_url(config: Config, relative: str) -> str:
    return f"{config.base_url}/media/{relative}"


async def remove_profile_image(config: Config, url: str) -> None:
    """Delete the file behind a replaced avatar or header when it is one of ours."""
    prefix = f"{config.base_url}/media/"
    if url.startswith(prefix + "accounts/"):
        files = media_files(config)
        await asyncio.to_thread(files.remove, url[len(prefix) :])
