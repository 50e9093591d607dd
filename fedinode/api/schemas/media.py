"""MediaAttachment, with the sizes and focal point of ``meta``."""

from __future__ import annotations

from collections.abc import Mapping

from fedinode.api import entities as e
from fedinode.config import Config
from storage.models import MediaAttachment


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


def _media_meta(media: MediaAttachment) -> e.MediaMeta:
    """``meta``: ``original`` and ``small`` sizes and the focal point. Local uploads store
    ``{"original": {...}, "small": {...}}``; remote attachments store their width and height
    at the top level, which becomes ``original`` here as Mastodon has it."""
    stored = media.meta or {}
    meta: e.MediaMeta = {}
    original = _size(stored.get("original")) or _size(stored)
    if original is not None:
        meta["original"] = original
    small = _size(stored.get("small"))
    if small is not None:
        meta["small"] = small
    meta["focus"] = {"x": float(media.focus_x), "y": float(media.focus_y)}
    return meta


def media_to_api(config: Config, media: MediaAttachment) -> e.MediaAttachment:
    """MediaAttachment entity; ``url`` is set because processing is synchronous."""
    base = config.base_url + "/media/"
    local = bool(media.file_path)
    url = base + media.file_path if local else media.remote_url or None
    preview = base + media.preview_path if media.preview_path else url
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
