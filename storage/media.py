"""Media attachments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storage.db import Connection, Database
from storage.ids import new_id, now_ms
from storage.models import MediaAttachment
from storage.rows import build, build_opt, dumps


@dataclass(frozen=True, slots=True)
class NewMedia:
    account_id: int
    type: str
    content_type: str = ""
    file_path: str = ""
    preview_path: str = ""
    remote_url: str = ""
    description: str = ""
    focus_x: float = 0.0
    focus_y: float = 0.0
    blurhash: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    size: int = 0
    status_id: int | None = None
    position: int = 0


async def insert_media(conn: Connection, new: NewMedia) -> MediaAttachment:
    """Insert one attachment (also inside a caller's transaction: a status and its media)."""
    row = await conn.fetchrow(
        "INSERT INTO media_attachments (id, account_id, status_id, type, content_type, file_path, preview_path,"
        " remote_url, description, focus_x, focus_y, blurhash, meta, size, position, created_at)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16) RETURNING *",
        new_id(),
        new.account_id,
        new.status_id,
        new.type,
        new.content_type,
        new.file_path,
        new.preview_path,
        new.remote_url,
        new.description,
        new.focus_x,
        new.focus_y,
        new.blurhash,
        dumps(new.meta),
        new.size,
        new.position,
        now_ms(),
    )
    assert row is not None
    return build(MediaAttachment, row)


# An app's own preview of a video or audio file (Mastodon's ``thumbnail``) is stored under
# this name; previews made here from a first frame or an image are ``small.*``.
CUSTOM_THUMBNAIL = "thumbnail"


def is_custom_thumbnail(preview_path: str) -> bool:
    return preview_path.rsplit("/", 1)[-1].startswith(CUSTOM_THUMBNAIL + ".")


class MediaStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(self, new: NewMedia) -> MediaAttachment:
        return await insert_media(self._db, new)

    async def get(self, media_id: int) -> MediaAttachment | None:
        return build_opt(
            MediaAttachment,
            await self._db.fetchrow("SELECT * FROM media_attachments WHERE id = $1", media_id),
        )

    async def update(
        self,
        media_id: int,
        *,
        description: str | None = None,
        focus: tuple[float, float] | None = None,
    ) -> MediaAttachment | None:
        current = await self.get(media_id)
        if current is None:
            return None
        fx, fy = focus if focus is not None else (current.focus_x, current.focus_y)
        row = await self._db.fetchrow(
            "UPDATE media_attachments SET description = $1, focus_x = $2, focus_y = $3 WHERE id = $4 RETURNING *",
            current.description if description is None else description,
            fx,
            fy,
            media_id,
        )
        return build_opt(MediaAttachment, row)

    async def set_thumbnail(
        self, media_id: int, *, preview_path: str, blurhash: str | None, small: dict[str, int]
    ) -> tuple[MediaAttachment, str] | None:
        """An app's own thumbnail as the preview; the attachment and the preview path it
        replaced (its file is the caller's to remove), None when the attachment is gone."""
        # Row-locked on PostgreSQL: a thumbnail and the end of processing may meet.
        lock = " FOR UPDATE" if self._db.dialect == "postgres" else ""
        async with self._db.transaction() as tx:
            current = build_opt(
                MediaAttachment,
                await tx.fetchrow(
                    "SELECT * FROM media_attachments WHERE id = $1" + lock, media_id
                ),
            )
            if current is None:
                return None
            row = await tx.fetchrow(
                "UPDATE media_attachments SET preview_path = $1, blurhash = $2, meta = $3"
                " WHERE id = $4 RETURNING *",
                preview_path,
                blurhash,
                dumps({**current.meta, "small": small}),
                media_id,
            )
        assert row is not None
        return build(MediaAttachment, row), current.preview_path

    async def delete_unattached(self, media_id: int) -> MediaAttachment | None:
        """Delete media no status uses; None when missing or attached meanwhile."""
        row = await self._db.fetchrow(
            "DELETE FROM media_attachments WHERE id = $1 AND status_id IS NULL RETURNING *",
            media_id,
        )
        return build_opt(MediaAttachment, row)
