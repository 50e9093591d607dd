"""The remote media cache: which remote files are to be fetched, which are kept, and where.

One ``remote_media`` row per owner (an attachment, or a remote account's avatar or header)
is the worker's persisted queue (``pending`` with attempts and a next-attempt time) and,
once fetched, the record of the cached files (``cached``, their bytes on disk and when they
were last served). A cached copy is also written onto its owner (the attachment's
``file_path``/``preview_path``, the account's ``avatar_cache``/``header_cache``) so that
rendering needs no extra query; the owner's revision moves so cached renderings go stale.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.custom_emojis import show_emoji_file
from storage.db import Connection, Database
from storage.ids import new_id, now_ms
from storage.preview_cards import show_card_image
from storage.rows import build_all, build_opt, dumps

KINDS = ("attachment", "avatar", "header", "emoji", "card")
PENDING, CACHED, REFUSED, EVICTED = "pending", "cached", "refused", "evicted"


def cache_key(url: str) -> str:
    """The part of a cached file's name that says which remote URL it copies."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def copies(cache_path: str, remote_url: str) -> bool:
    """True when ``cache_path`` is a cached copy of ``remote_url`` (and not of an older one)."""
    return bool(cache_path) and bool(remote_url) and cache_key(remote_url) in cache_path


@dataclass(frozen=True, slots=True)
class RemoteMedia:
    id: int
    kind: str
    owner_id: int
    remote_url: str
    domain: str
    state: str
    attempts: int
    next_attempt_at: int
    file_path: str
    preview_path: str
    bytes: int
    last_access_at: int
    fetched_at: int | None
    last_error: str
    created_at: int


@dataclass(frozen=True, slots=True)
class WantedMedia:
    """A remote file to cache for its owner."""

    kind: str
    owner_id: int
    remote_url: str
    domain: str


@dataclass(frozen=True, slots=True)
class CachedFiles:
    """What the worker made of a fetched file."""

    file_path: str
    preview_path: str = ""
    content_type: str = ""
    blurhash: str | None = None
    meta: dict[str, Any] | None = None  # None: the attachment keeps what its origin said
    bytes: int = 0


class MediaCacheStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(self, wanted: Sequence[WantedMedia]) -> int:
        """Queue files to fetch; a known owner is queued again only when its URL changed or
        its copy was evicted. Returns how many rows became pending."""
        now = now_ms()
        queued = 0
        for w in wanted:
            if w.kind not in KINDS or not w.remote_url:
                continue
            queued += await self._db.execute(
                "INSERT INTO remote_media (id, kind, owner_id, remote_url, domain, state,"
                " next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6)"
                " ON CONFLICT (kind, owner_id) DO UPDATE SET remote_url = excluded.remote_url,"
                " domain = excluded.domain, state = 'pending', attempts = 0, last_error = '',"
                " next_attempt_at = excluded.next_attempt_at"
                " WHERE remote_media.remote_url <> excluded.remote_url"
                " OR remote_media.state = 'evicted'",
                new_id(),
                w.kind,
                w.owner_id,
                w.remote_url,
                w.domain,
                now,
            )
        return queued

    async def get(self, kind: str, owner_id: int) -> RemoteMedia | None:
        return build_opt(
            RemoteMedia,
            await self._db.fetchrow(
                "SELECT * FROM remote_media WHERE kind = $1 AND owner_id = $2", kind, owner_id
            ),
        )

    async def claim(self, limit: int, *, lease_ms: int = 300_000) -> list[RemoteMedia]:
        """Claim due fetches. A claim is a lease: a worker that dies leaves the row to be
        taken again once it runs out."""
        now = now_ms()
        lock = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "postgres" else ""
        rows = await self._db.fetch(
            "UPDATE remote_media SET next_attempt_at = $1, attempts = attempts + 1 WHERE id IN ("
            " SELECT id FROM remote_media WHERE state = 'pending' AND next_attempt_at <= $2"
            f" ORDER BY next_attempt_at LIMIT $3{lock}) RETURNING *",
            now + lease_ms,
            now,
            limit,
        )
        return build_all(RemoteMedia, rows)

    async def due(self) -> bool:
        found = await self._db.fetchval(
            "SELECT 1 FROM remote_media WHERE state = 'pending' AND next_attempt_at <= $1 LIMIT 1",
            now_ms(),
        )
        return found is not None

    async def make_due(self) -> int:
        """Make every pending fetch due now (tests; an operator's "retry now")."""
        return await self._db.execute(
            "UPDATE remote_media SET next_attempt_at = $1 WHERE state = 'pending'", now_ms()
        )

    async def retry(self, item: RemoteMedia, error: str, *, retry_at: int | None) -> None:
        """Try again at ``retry_at``; None gives up (``refused``: the remote URL stays)."""
        await self._db.execute(
            "UPDATE remote_media SET state = $1, last_error = $2, next_attempt_at = $3"
            " WHERE id = $4 AND remote_url = $5",
            PENDING if retry_at is not None else REFUSED,
            error[:500],
            retry_at if retry_at is not None else now_ms(),
            item.id,
            item.remote_url,
        )

    async def cached(self, item: RemoteMedia, files: CachedFiles) -> bool:
        """Record fetched files and show them on their owner. False (nothing changed) when
        the owner is gone or now points elsewhere: the caller removes the files."""
        now = now_ms()
        try:
            async with self._db.transaction() as tx:
                if not await self._show(tx, item, files):
                    return False
                await self._mark_cached(tx, item, files, now)
        except _Superseded:
            return False
        return True

    async def _mark_cached(
        self, tx: Connection, item: RemoteMedia, files: CachedFiles, now: int
    ) -> None:
        changed = await tx.execute(
            "UPDATE remote_media SET state = 'cached', file_path = $1, preview_path = $2,"
            " bytes = $3, fetched_at = $4, last_access_at = $4, last_error = ''"
            " WHERE id = $5 AND remote_url = $6",
            files.file_path,
            files.preview_path,
            files.bytes,
            now,
            item.id,
            item.remote_url,
        )
        if not changed:
            raise _Superseded()

    async def _show(self, tx: Connection, item: RemoteMedia, files: CachedFiles) -> bool:
        if item.kind == "attachment":
            status_id = await tx.fetchval(
                "UPDATE media_attachments SET file_path = $1, preview_path = $2,"
                " content_type = $3, blurhash = COALESCE($4, blurhash), meta = COALESCE($5, meta),"
                " size = $6"
                " WHERE id = $7 AND remote_url = $8 RETURNING COALESCE(status_id, 0)",
                files.file_path,
                files.preview_path,
                files.content_type,
                files.blurhash,
                None if files.meta is None else dumps(files.meta),
                files.bytes,
                item.owner_id,
                item.remote_url,
            )
            if status_id is None:
                return False
            if status_id:
                await tx.execute("UPDATE statuses SET rev = rev + 1 WHERE id = $1", status_id)
            return True
        if item.kind == "emoji":
            return await show_emoji_file(
                tx, item.owner_id, item.remote_url, files.file_path, files.preview_path
            )
        if item.kind == "card":
            small = (files.meta or {}).get("small") or {}
            return await show_card_image(
                tx,
                item.owner_id,
                item.remote_url,
                files.preview_path or files.file_path,
                width=int(small.get("width", 0)),
                height=int(small.get("height", 0)),
                blurhash=files.blurhash,
            )
        column = "avatar_cache" if item.kind == "avatar" else "header_cache"
        source = "avatar_url" if item.kind == "avatar" else "header_url"
        return bool(
            await tx.execute(
                f"UPDATE accounts SET {column} = $1, rev = rev + 1 WHERE id = $2 AND {source} = $3",
                files.file_path,
                item.owner_id,
                item.remote_url,
            )
        )

    async def forget(self, item: RemoteMedia) -> None:
        """Drop a row whose owner is gone."""
        await self._db.execute("DELETE FROM remote_media WHERE id = $1", item.id)

    async def evict(self, item: RemoteMedia) -> bool:
        """Take a cached copy off its owner (which shows the remote URL again) and mark the
        row evicted. False when another process evicted or replaced it first."""
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE remote_media SET state = 'evicted', file_path = '', preview_path = '',"
                " bytes = 0 WHERE id = $1 AND state = 'cached' AND file_path = $2",
                item.id,
                item.file_path,
            )
            if not changed:
                return False
            if item.kind == "attachment":
                status_id = await tx.fetchval(
                    "UPDATE media_attachments SET file_path = '', preview_path = ''"
                    " WHERE id = $1 AND file_path = $2 RETURNING COALESCE(status_id, 0)",
                    item.owner_id,
                    item.file_path,
                )
                if status_id:
                    await tx.execute("UPDATE statuses SET rev = rev + 1 WHERE id = $1", status_id)
            elif item.kind == "emoji":
                await show_emoji_file(tx, item.owner_id, item.remote_url, "", "")
            elif item.kind == "card":
                await show_card_image(tx, item.owner_id, item.remote_url, "")
            else:
                column = "avatar_cache" if item.kind == "avatar" else "header_cache"
                await tx.execute(
                    f"UPDATE accounts SET {column} = '', rev = rev + 1"
                    f" WHERE id = $1 AND {column} = $2",
                    item.owner_id,
                    item.file_path,
                )
        return True

    async def total_bytes(self) -> int:
        total = await self._db.fetchval(
            "SELECT COALESCE(SUM(bytes), 0) FROM remote_media WHERE state = 'cached'"
        )
        return int(total or 0)

    async def count_cached(self) -> int:
        return int(
            await self._db.fetchval("SELECT COUNT(*) FROM remote_media WHERE state = 'cached'") or 0
        )

    async def least_recent(self, limit: int) -> list[RemoteMedia]:
        """Cached copies, least recently served first (the next to evict)."""
        rows = await self._db.fetch(
            "SELECT * FROM remote_media WHERE state = 'cached'"
            " ORDER BY last_access_at, id LIMIT $1",
            limit,
        )
        return build_all(RemoteMedia, rows)

    async def unused_since(self, cutoff_ms: int, limit: int) -> list[RemoteMedia]:
        """Cached copies not served since ``cutoff_ms`` (nor fetched since)."""
        rows = await self._db.fetch(
            "SELECT * FROM remote_media WHERE state = 'cached' AND last_access_at < $1"
            " ORDER BY last_access_at, id LIMIT $2",
            cutoff_ms,
            limit,
        )
        return build_all(RemoteMedia, rows)

    async def count_unused_since(self, cutoff_ms: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM remote_media WHERE state = 'cached' AND last_access_at < $1",
                cutoff_ms,
            )
            or 0
        )

    async def touch(self, file_path: str, now: int, older_than: int) -> int:
        """Note that a cached file (the copy or its thumbnail) was served, unless that was
        noted after ``older_than`` already (so a popular file costs one write a day, not one
        per request)."""
        return await self._db.execute(
            "UPDATE remote_media SET last_access_at = $1 WHERE id IN ("
            " SELECT id FROM remote_media WHERE file_path = $2 AND state = 'cached'"
            " UNION SELECT id FROM remote_media WHERE preview_path = $2 AND state = 'cached'"
            " AND preview_path <> '') AND last_access_at < $3",
            now,
            file_path,
            older_than,
        )

    async def set_last_access(self, item_id: int, when_ms: int) -> None:
        """Set when a copy was last served (tests and imports)."""
        await self._db.execute(
            "UPDATE remote_media SET last_access_at = $1 WHERE id = $2", when_ms, item_id
        )


class _Superseded(Exception):
    """The row changed (a new URL) while its old one was being fetched; the transaction
    is rolled back and the caller treats the files as unused."""
