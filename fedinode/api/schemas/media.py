"""MediaAttachment, with the sizes and focal point of ``meta``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from fedinode.config import Config
from storage.models import MediaAttachment

if TYPE_CHECKING:
    from fedinode.api import entities as e


def _size(stored: object) -> e.MediaSize | None:
    """Mastodon's size block from stored dimensions (``{"width", "height"}`` at least)."""
    if not isinstance(stored, Mapping):
        return None
    width, height = stored.get("width"), stored.get("height")
    if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
        return None
    return {
        "width": width,
        "height": height,
        "size": f"{width}x{height}",
        "aspect": round(width / height, 6),
    }


AV_TYPES = ("video", "gifv", "audio")


def _original_extras(stored: object) -> dict[str, float | int | str]:
    """``frame_rate``, ``duration`` and ``bitrate`` of a transcoded (or described) file."""
    if not isinstance(stored, Mapping):
        return {}
    out: dict[str, float | int | str] = {}
    if isinstance(stored.get("frame_rate"), str):
        out["frame_rate"] = stored["frame_rate"]
    duration = stored.get("duration")
    if isinstance(duration, int | float) and not isinstance(duration, bool) and duration >= 0:
        out["duration"] = float(duration)
    bitrate = stored.get("bitrate")
    if isinstance(bitrate, int) and not isinstance(bitrate, bool) and bitrate > 0:
        out["bitrate"] = bitrate
    return out


def _av_top(meta: e.MediaMeta, stored: Mapping[str, object]) -> None:
    """Mastodon's top-level keys of video and audio ``meta`` (length, duration, fps, size, …)."""
    for key in ("length", "audio_encode", "audio_bitrate", "audio_channels"):
        value = stored.get(key)
        if isinstance(value, str):
            meta[key] = value
    duration = stored.get("duration")
    if isinstance(duration, int | float) and not isinstance(duration, bool) and duration >= 0:
        meta["duration"] = float(duration)
        meta.setdefault("length", _length(float(duration)))
    fps = stored.get("fps")
    if isinstance(fps, int) and not isinstance(fps, bool) and fps > 0:
        meta["fps"] = fps
    size = _size(stored)
    if size is not None:
        meta["size"] = size["size"]
        meta["width"] = size["width"]
        meta["height"] = size["height"]
        meta["aspect"] = size["aspect"]


def _length(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours)}:{int(minutes):02d}:{secs:05.2f}"


def _media_meta(media: MediaAttachment) -> e.MediaMeta:
    """``meta``: ``original`` and ``small`` sizes and the focal point. Local uploads store
    ``{"original": {...}, "small": {...}}``; remote attachments store their width and height
    at the top level, which becomes ``original`` here as Mastodon has it. Video, GIF and
    audio add Mastodon's top-level keys and ``original``'s frame rate, duration and bitrate."""
    stored = media.meta or {}
    meta: e.MediaMeta = {}
    av = media.type in AV_TYPES
    original = _size(stored.get("original")) or _size(stored)
    extras = _original_extras(stored.get("original")) or (_original_extras(stored) if av else {})
    if original is not None:
        meta["original"] = {**original, **extras} if av else original  # type: ignore[typeddict-item]
    elif av and extras:
        meta["original"] = {k: v for k, v in extras.items() if k != "frame_rate"}  # type: ignore[typeddict-item]
    small = _size(stored.get("small"))
    if small is not None:
        meta["small"] = small
    if av:
        _av_top(meta, stored)
    meta["focus"] = {"x": float(media.focus_x), "y": float(media.focus_y)}
    return meta


def media_to_api(config: Config, media: MediaAttachment) -> e.MediaAttachment:
    """MediaAttachment entity; ``url`` is null while an upload is still being processed."""
    base = config.base_url + "/media/"
    local = bool(media.file_path)
    url = base + media.file_path if local else media.remote_url or None
    if media.preview_path:
        preview: str | None = base + media.preview_path
    else:
        # A video or audio file is no picture: without a thumbnail there is no preview.
        preview = None if media.type in AV_TYPES else url
    meta = _media_meta(media)
    return {
        "id": str(media.id),
        "type": media.type,
        "url": url,
        "preview_url": preview,
        # A remote attachment cached here shows our copy as url and its origin here.
        "remote_url": media.remote_url or None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": media.description or None,
        "blurhash": media.blurhash,
    }
