"""Custom emojis: an admin's uploads (re-encoded like media uploads), ``:shortcode:`` in
local statuses and profiles, and other servers' emojis queued for the remote media cache."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from fedinode.config import Config
from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services.media import process_image
from fedinode.services.media_files import media_files
from storage.custom_emojis import CustomEmoji, NewLocalEmoji
from storage.errors import Conflict
from storage.media_cache import WantedMedia
from storage.store import Store

log = logging.getLogger("fedinode.media")

# Mastodon's shortcodes: letters, digits and underscores, at least two.
SHORTCODE_RE = re.compile(r"[A-Za-z0-9_]{2,64}")
_IN_TEXT_RE = re.compile(r"(?<![A-Za-z0-9_:]):([A-Za-z0-9_]{2,64}):(?![A-Za-z0-9_])")
STATIC_SIZE = 128
MAX_EMOJIS_PER_TEXT = 64


def shortcodes_in(*texts: str) -> list[str]:
    """The ``:shortcode:`` names in texts, in order, once each."""
    seen: dict[str, None] = {}
    for text in texts:
        for match in _IN_TEXT_RE.finditer(text or ""):
            seen.setdefault(match.group(1), None)
    return list(seen)[:MAX_EMOJIS_PER_TEXT]


def emoji_item(config: Config, emoji: CustomEmoji) -> dict[str, Any]:
    """What a local status or account keeps of one of this instance's emojis."""
    url = f"{config.base_url}/media/{emoji.file_path}"
    static = f"{config.base_url}/media/{emoji.static_path}" if emoji.static_path else url
    return {
        "shortcode": emoji.shortcode,
        "url": url,
        "static_url": static,
        "visible_in_picker": emoji.visible_in_picker,
        "file": emoji.file_path,
        "static_file": emoji.static_path,
    }


async def local_emoji_items(store: Store, config: Config, *texts: str) -> list[dict[str, Any]]:
    """The enabled local emojis named in ``texts``, as the JSON a status or account keeps."""
    codes = shortcodes_in(*texts)
    if not codes:
        return []
    found = {e.shortcode: e for e in await store.custom_emojis.local_enabled(codes)}
    return [emoji_item(config, found[c]) for c in codes if c in found]


# -- an admin's emojis -----------------------------------------------------------------------


def _check_shortcode(shortcode: str) -> str:
    code = shortcode.strip().strip(":")
    if not SHORTCODE_RE.fullmatch(code):
        raise ValidationFailed(
            "Validation failed: Shortcode must be 2-64 letters, digits or underscores"
        )
    return code


def _make_files(config: Config, data: bytes) -> NewLocalEmoji:
    if len(data) > config.media.emoji_max_bytes:
        raise ValidationFailed(
            f"Validation failed: Image is too large (the limit is {config.media.emoji_max_bytes}"
            " bytes)"
        )
    if not data:
        raise ValidationFailed("Validation failed: Image is empty")
    p = process_image(data, max_pixels=config.media.max_image_pixels, thumbnail_size=STATIC_SIZE)
    folder = f"emojis/{secrets.token_hex(1)}/{secrets.token_hex(8)}"
    files = media_files(config)
    original = f"{folder}/original.{p.extension}"
    static = f"{folder}/static.{p.small_extension}"
    files.write(original, p.original)
    files.write(static, p.small)
    return NewLocalEmoji(
        shortcode="",
        file_path=original,
        static_path=static,
        content_type=p.content_type,
        size=len(p.original),
    )


def _remove_files(config: Config, *paths: str) -> None:
    files = media_files(config)
    for path in paths:
        files.remove(path)


async def add_local_emoji(
    store: Store, config: Config, shortcode: str, data: bytes, category: str = ""
) -> CustomEmoji:
    """Re-encode an image and make it ``:shortcode:`` here."""
    code = _check_shortcode(shortcode)
    if await store.custom_emojis.local_by_shortcode(code) is not None:
        raise ValidationFailed(f"Validation failed: :{code}: exists already")
    made = await asyncio.to_thread(_make_files, config, data)
    try:
        return await store.custom_emojis.create_local(
            NewLocalEmoji(
                shortcode=code,
                file_path=made.file_path,
                static_path=made.static_path,
                content_type=made.content_type,
                size=made.size,
                category=category.strip()[:64],
            )
        )
    except Conflict:
        await asyncio.to_thread(_remove_files, config, made.file_path, made.static_path)
        raise ValidationFailed(f"Validation failed: :{code}: exists already") from None


async def update_local_emoji(
    store: Store,
    config: Config,
    emoji_id: int,
    *,
    category: str | None = None,
    disabled: bool | None = None,
    image: bytes | None = None,
) -> CustomEmoji:
    """Change an emoji's category, whether it is disabled, or its image. Statuses that show
    it keep the image they were posted with (its files stay)."""
    current = await store.custom_emojis.get(emoji_id)
    if current is None or current.domain:
        raise NotFoundError()
    made = await asyncio.to_thread(_make_files, config, image) if image is not None else None
    updated = await store.custom_emojis.update_local(
        emoji_id,
        category=None if category is None else category.strip()[:64],
        disabled=disabled,
        files=made,
    )
    if updated is None:
        raise NotFoundError()
    return updated


async def remove_local_emoji(store: Store, config: Config, emoji_id: int) -> CustomEmoji:
    """Delete one of this instance's emojis and its files."""
    current = await store.custom_emojis.get(emoji_id)
    if current is None or current.domain:
        raise NotFoundError()
    removed = await store.custom_emojis.delete(emoji_id)
    if removed is None:
        raise NotFoundError()
    await asyncio.to_thread(_remove_files, config, removed.file_path, removed.static_path)
    return removed


# -- other servers' emojis -------------------------------------------------------------------


def _remote_pairs(items: Iterable[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for item in items:
        code, url = item.get("shortcode"), item.get("url")
        if isinstance(code, str) and isinstance(url, str) and SHORTCODE_RE.fullmatch(code):
            out.append((code, url))
    return out


async def queue_remote_emojis(
    store: Store, kind: str, owner_id: int, domain: str, items: Sequence[dict[str, Any]]
) -> None:
    """Record the emojis a remote status (``kind="status"``) or account shows, write the
    copies already cached onto it and queue the others for the cache. A failure here fails
    nothing else: the remote URLs stay."""
    pairs = _remote_pairs(items)
    try:
        emojis = [await store.custom_emojis.upsert_remote(c, domain, u, u) for c, u in pairs]
        await store.custom_emojis.link(kind, owner_id, [e.id for e in emojis])
        wanted = []
        for emoji in emojis:
            if emoji.file_path:
                await store.custom_emojis.show_cached(emoji, kind=kind, owner_id=owner_id)
            else:
                wanted.append(WantedMedia("emoji", emoji.id, emoji.image_remote_url, domain))
        await store.media_cache.enqueue(wanted)
    except Exception:
        log.exception("queueing emojis of %s %s failed", kind, owner_id)
