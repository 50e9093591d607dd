"""Custom emojis: this instance's own (``domain == ""``) and other servers' (cached images).

Statuses and accounts keep the emojis they show as JSON items (``shortcode``, ``url``,
``static_url`` and, once there is a copy here, ``file``/``static_file``: paths under the
media directory). ``status_emojis``/``account_emojis`` link them to the emoji rows so a
remote emoji's cached copy, or its eviction, is written onto everything that shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from storage.db import Connection, Database, placeholders
from storage.errors import Conflict
from storage.ids import new_id, now_ms
from storage.rows import build_all, build_opt, dumps


@dataclass(frozen=True, slots=True)
class CustomEmoji:
    id: int
    shortcode: str
    domain: str
    uri: str
    image_remote_url: str
    file_path: str
    static_path: str
    content_type: str
    size: int
    category: str
    disabled: bool
    visible_in_picker: bool
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class NewLocalEmoji:
    shortcode: str
    file_path: str
    static_path: str
    content_type: str
    size: int
    category: str = ""


def _patched(items: list[dict[str, Any]], emoji: CustomEmoji, path: str, static: str) -> bool:
    changed = False
    for item in items:
        if item.get("shortcode") != emoji.shortcode or item.get("url") != emoji.image_remote_url:
            continue
        if path:
            if item.get("file") != path or item.get("static_file") != static:
                item["file"], item["static_file"] = path, static
                changed = True
        elif "file" in item or "static_file" in item:
            item.pop("file", None)
            item.pop("static_file", None)
            changed = True
    return changed


async def show_emoji_file(
    tx: Connection,
    emoji_id: int,
    remote_url: str,
    path: str,
    static: str,
    *,
    only: tuple[str, int] | None = None,
) -> bool:
    """Set (or, with ``path == ""``, clear) the cached copy of a remote emoji on its row and
    on every status and account that shows it. False when the emoji is gone or now has
    another image."""
    row = await tx.fetchrow(
        "UPDATE custom_emojis SET file_path = $1, static_path = $2, updated_at = $3"
        " WHERE id = $4 AND image_remote_url = $5 RETURNING *",
        path,
        static,
        now_ms(),
        emoji_id,
        remote_url,
    )
    emoji = build_opt(CustomEmoji, row)
    if emoji is None:
        return False
    for kind, table, link, column in (
        ("status", "statuses", "status_emojis", "status_id"),
        ("account", "accounts", "account_emojis", "account_id"),
    ):
        if only is not None and only[0] != kind:
            continue
        rows = await tx.fetch(
            f"SELECT t.id, t.emojis FROM {table} t JOIN {link} l ON l.{column} = t.id"
            " WHERE l.emoji_id = $1 AND ($2 = 0 OR t.id = $2)",
            emoji_id,
            0 if only is None else only[1],
        )
        for r in rows:
            items = orjson.loads(r["emojis"] or "[]")
            if isinstance(items, list) and _patched(items, emoji, path, static):
                await tx.execute(
                    f"UPDATE {table} SET emojis = $1, rev = rev + 1 WHERE id = $2",
                    dumps(items),
                    r["id"],
                )
    return True


class CustomEmojiStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- this instance's emojis -----------------------------------------------------------

    async def create_local(self, new: NewLocalEmoji) -> CustomEmoji:
        now = now_ms()
        row = await self._db.fetchrow(
            "INSERT INTO custom_emojis (id, shortcode, domain, file_path, static_path,"
            " content_type, size, category, created_at, updated_at)"
            " VALUES ($1, $2, '', $3, $4, $5, $6, $7, $8, $8)"
            " ON CONFLICT (shortcode, domain) DO NOTHING RETURNING *",
            new_id(),
            new.shortcode,
            new.file_path,
            new.static_path,
            new.content_type,
            new.size,
            new.category,
            now,
        )
        if row is None:
            raise Conflict(f"emoji :{new.shortcode}: exists")
        built = build_opt(CustomEmoji, row)
        assert built is not None
        return built

    async def get(self, emoji_id: int) -> CustomEmoji | None:
        return build_opt(
            CustomEmoji,
            await self._db.fetchrow("SELECT * FROM custom_emojis WHERE id = $1", emoji_id),
        )

    async def local_by_shortcode(self, shortcode: str) -> CustomEmoji | None:
        return build_opt(
            CustomEmoji,
            await self._db.fetchrow(
                "SELECT * FROM custom_emojis WHERE domain = '' AND shortcode = $1", shortcode
            ),
        )

    async def local_enabled(self, shortcodes: Sequence[str]) -> list[CustomEmoji]:
        """The enabled local emojis among ``shortcodes``."""
        codes = sorted(set(shortcodes))
        if not codes:
            return []
        rows = await self._db.fetch(
            "SELECT * FROM custom_emojis WHERE domain = '' AND NOT disabled"
            f" AND shortcode IN ({placeholders(1, len(codes))}) ORDER BY shortcode",
            *codes,
        )
        return build_all(CustomEmoji, rows)

    async def listed(self, *, local_only: bool = True, enabled_only: bool = False) -> list[CustomEmoji]:
        where = ["TRUE"]
        if local_only:
            where.append("domain = ''")
        if enabled_only:
            where.append("NOT disabled")
        rows = await self._db.fetch(
            f"SELECT * FROM custom_emojis WHERE {' AND '.join(where)} ORDER BY domain, shortcode"
        )
        return build_all(CustomEmoji, rows)

    async def update_local(
        self,
        emoji_id: int,
        *,
        category: str | None = None,
        disabled: bool | None = None,
        files: NewLocalEmoji | None = None,
    ) -> CustomEmoji | None:
        current = await self.get(emoji_id)
        if current is None or current.domain:
            return None
        row = await self._db.fetchrow(
            "UPDATE custom_emojis SET category = $1, disabled = $2, file_path = $3,"
            " static_path = $4, content_type = $5, size = $6, updated_at = $7"
            " WHERE id = $8 RETURNING *",
            current.category if category is None else category,
            current.disabled if disabled is None else disabled,
            current.file_path if files is None else files.file_path,
            current.static_path if files is None else files.static_path,
            current.content_type if files is None else files.content_type,
            current.size if files is None else files.size,
            now_ms(),
            emoji_id,
        )
        return build_opt(CustomEmoji, row)

    async def delete(self, emoji_id: int) -> CustomEmoji | None:
        async with self._db.transaction() as tx:
            row = await tx.fetchrow("DELETE FROM custom_emojis WHERE id = $1 RETURNING *", emoji_id)
            await tx.execute("DELETE FROM status_emojis WHERE emoji_id = $1", emoji_id)
            await tx.execute("DELETE FROM account_emojis WHERE emoji_id = $1", emoji_id)
        return build_opt(CustomEmoji, row)

    # -- other servers' emojis ------------------------------------------------------------

    async def upsert_remote(
        self, shortcode: str, domain: str, image_url: str, uri: str
    ) -> CustomEmoji:
        """The row of a remote emoji; a new image URL replaces the old one (and its copy)."""
        now = now_ms()
        row = await self._db.fetchrow(
            "INSERT INTO custom_emojis (id, shortcode, domain, uri, image_remote_url,"
            " visible_in_picker, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6)"
            " ON CONFLICT (shortcode, domain) DO UPDATE SET"
            " image_remote_url = excluded.image_remote_url, uri = excluded.uri,"
            " file_path = CASE WHEN custom_emojis.image_remote_url = excluded.image_remote_url"
            " THEN custom_emojis.file_path ELSE '' END,"
            " static_path = CASE WHEN custom_emojis.image_remote_url = excluded.image_remote_url"
            " THEN custom_emojis.static_path ELSE '' END,"
            " updated_at = excluded.updated_at"
            " RETURNING *",
            new_id(),
            shortcode,
            domain,
            uri,
            image_url,
            now,
        )
        built = build_opt(CustomEmoji, row)
        assert built is not None
        return built

    async def link(self, kind: str, owner_id: int, emoji_ids: Sequence[int]) -> None:
        """Say which emojis a status (``kind="status"``) or account shows (replacing the
        links it had)."""
        table, column = (
            ("status_emojis", "status_id") if kind == "status" else ("account_emojis", "account_id")
        )
        if not emoji_ids:
            await self._db.execute(f"DELETE FROM {table} WHERE {column} = $1", owner_id)
            return
        async with self._db.transaction() as tx:
            await tx.execute(f"DELETE FROM {table} WHERE {column} = $1", owner_id)
            for emoji_id in sorted(set(emoji_ids)):
                await tx.execute(
                    f"INSERT INTO {table} (emoji_id, {column}) VALUES ($1, $2)"
                    " ON CONFLICT DO NOTHING",
                    emoji_id,
                    owner_id,
                )

    async def show_cached(self, emoji: CustomEmoji, *, kind: str, owner_id: int) -> None:
        """Write a remote emoji's cached copy onto one status or account linked to it."""
        async with self._db.transaction() as tx:
            await show_emoji_file(
                tx,
                emoji.id,
                emoji.image_remote_url,
                emoji.file_path,
                emoji.static_path,
                only=(kind, owner_id),
            )
