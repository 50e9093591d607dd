"""Media processing jobs: uploads transcoded after the upload answered (``media_processing``).

An attachment with a row here is not ready: ``pending`` while a worker is to process it,
``failed`` (with the reason) when it could not be. Success writes the attachment's files
and meta and deletes the row in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.ids import now_ms
from storage.media import NewMedia, insert_media, is_custom_thumbnail
from storage.models import MediaAttachment
from storage.rows import build, build_all, build_opt, dumps

PENDING, FAILED = "pending", "failed"


@dataclass(frozen=True, slots=True)
class MediaJob:
    media_id: int
    kind: str
    source_path: str
    state: str
    attempts: int
    next_attempt_at: int
    last_error: str
    created_at: int


@dataclass(frozen=True, slots=True)
class ProcessedMedia:
    """What processing made of an upload (paths under the media directory)."""

    content_type: str
    file_path: str
    preview_path: str
    blurhash: str | None
    meta: dict[str, Any]
    size: int


class MediaJobStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, new: NewMedia, *, kind: str, source_path: str) -> MediaAttachment:
        """The attachment (not ready: no files yet) and its job, together."""
        async with self._db.transaction() as tx:
            media = await insert_media(tx, new)
            now = now_ms()
            await tx.execute(
                "INSERT INTO media_processing (media_id, kind, source_path, state,"
                " next_attempt_at, created_at) VALUES ($1, $2, $3, 'pending', $4, $4)",
                media.id,
                kind,
                source_path,
                now,
            )
        return media

    async def get(self, media_id: int) -> MediaJob | None:
        return build_opt(
            MediaJob,
            await self._db.fetchrow("SELECT * FROM media_processing WHERE media_id = $1", media_id),
        )

    async def claim(self, limit: int, *, lease_ms: int, media_id: int | None = None) -> list[MediaJob]:
        """Lease due jobs (or the one job of ``media_id`` when it is due) in one statement."""
        now = now_ms()
        lock = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "postgres" else ""
        only = "" if media_id is None else " AND media_id = $4"
        args: list[Any] = [now + lease_ms, now, limit]
        if media_id is not None:
            args.append(media_id)
        rows = await self._db.fetch(
            "UPDATE media_processing SET next_attempt_at = $1, attempts = attempts + 1"
            " WHERE media_id IN (SELECT media_id FROM media_processing WHERE state = 'pending'"
            f" AND next_attempt_at <= $2{only} ORDER BY next_attempt_at LIMIT $3{lock}) RETURNING *",
            *args,
        )
        return build_all(MediaJob, rows)

    async def finish(self, job: MediaJob, done: ProcessedMedia) -> MediaAttachment | None:
        """The attachment made ready and the job gone; None when the attachment was deleted."""
        # Row-locked on PostgreSQL: a thumbnail and the end of processing may meet.
        lock = " FOR UPDATE" if self._db.dialect == "postgres" else ""
        async with self._db.transaction() as tx:
            current = build_opt(
                MediaAttachment,
                await tx.fetchrow(
                    "SELECT * FROM media_attachments WHERE id = $1" + lock, job.media_id
                ),
            )
            preview_path, blurhash, meta = done.preview_path, done.blurhash, done.meta
            if current is not None and is_custom_thumbnail(current.preview_path):
                # An app sent its own thumbnail while the file was processed: it stays.
                preview_path, blurhash = current.preview_path, current.blurhash
                meta = {**meta, "small": current.meta.get("small")}
            row = await tx.fetchrow(
                "UPDATE media_attachments SET content_type = $1, file_path = $2,"
                " preview_path = $3, blurhash = $4, meta = $5, size = $6 WHERE id = $7"
                " RETURNING *",
                done.content_type,
                done.file_path,
                preview_path,
                blurhash,
                dumps(meta),
                done.size,
                job.media_id,
            )
            await tx.execute("DELETE FROM media_processing WHERE media_id = $1", job.media_id)
        return None if row is None else build(MediaAttachment, row)

    async def fail(self, job: MediaJob, error: str) -> None:
        await self._db.execute(
            "UPDATE media_processing SET state = 'failed', last_error = $1 WHERE media_id = $2",
            error[:500],
            job.media_id,
        )

    async def retry(self, job: MediaJob, error: str, *, retry_at: int) -> None:
        await self._db.execute(
            "UPDATE media_processing SET next_attempt_at = $1, last_error = $2 WHERE media_id = $3",
            retry_at,
            error[:500],
            job.media_id,
        )

    async def due(self) -> bool:
        found = await self._db.fetchval(
            "SELECT 1 FROM media_processing WHERE state = 'pending' AND next_attempt_at <= $1"
            " LIMIT 1",
            now_ms(),
        )
        return found is not None

    async def make_due(self) -> int:
        """Make every pending job due now (tests; taking over a dead worker's lease)."""
        return await self._db.execute(
            "UPDATE media_processing SET next_attempt_at = $1 WHERE state = 'pending'", now_ms()
        )
