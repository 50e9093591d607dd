"""Link preview cards: one per linked URL, shared by the statuses linking it.

A ``preview_cards`` row is both the worker's persisted queue (``pending``, attempts, a
next-attempt time, claimed with a lease) and, once fetched, the card. ``status_cards`` says
which card a status shows. A card's image is a ``card`` item of the remote media cache;
its copy is written onto the card (``image_path``). Whatever changes what a status shows
moves its revision, so cached renderings go stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Connection, Database, batch_memo, placeholders
from storage.ids import new_id, now_ms
from storage.rows import build, build_all, build_opt

PENDING, FETCHED, FAILED = "pending", "fetched", "failed"
_MEMO = "preview_card"  # the key's first part in ``batch_memo``


@dataclass(frozen=True, slots=True)
class PreviewCard:
    id: int
    url: str
    state: str
    attempts: int
    next_attempt_at: int
    last_error: str
    type: str
    title: str
    description: str
    author_name: str
    author_url: str
    provider_name: str
    provider_url: str
    html: str
    width: int
    height: int
    embed_url: str
    language: str
    published_at: int | None
    image_remote_url: str
    image_path: str
    image_width: int
    image_height: int
    blurhash: str | None
    fetched_at: int | None
    created_at: int


@dataclass(frozen=True, slots=True)
class CardContent:
    """What a fetched page says about itself."""

    title: str
    type: str = "link"
    description: str = ""
    author_name: str = ""
    author_url: str = ""
    provider_name: str = ""
    provider_url: str = ""
    html: str = ""
    width: int = 0
    height: int = 0
    embed_url: str = ""
    language: str = ""
    published_at: int | None = None
    image_remote_url: str = ""


async def _bump_statuses(tx: Connection, card_id: int) -> list[int]:
    rows = await tx.fetch(
        "UPDATE statuses SET rev = rev + 1 WHERE id IN"
        " (SELECT status_id FROM status_cards WHERE card_id = $1) RETURNING id",
        card_id,
    )
    return [int(r["id"]) for r in rows]


async def show_card_image(
    tx: Connection,
    card_id: int,
    remote_url: str,
    path: str,
    *,
    width: int = 0,
    height: int = 0,
    blurhash: str | None = None,
) -> bool:
    """Set (or, with ``path == ""``, clear) the cached copy of a card's image. False when
    the card is gone or now names another image."""
    changed = await tx.execute(
        "UPDATE preview_cards SET image_path = $1, image_width = $2, image_height = $3,"
        " blurhash = COALESCE($4, blurhash) WHERE id = $5 AND image_remote_url = $6",
        path,
        width,
        height,
        blurhash,
        card_id,
        remote_url,
    )
    if not changed:
        return False
    await _bump_statuses(tx, card_id)
    return True


class PreviewCardStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def attach(self, status_id: int, url: str | None) -> PreviewCard | None:
        """Make ``url``'s card the one a status shows (``None``: it shows none); a URL seen
        for the first time is queued. Returns the card."""
        if url is None:
            # Most statuses link nothing: one indexed delete, and a write only if it had a card.
            removed = await self._db.execute(
                "DELETE FROM status_cards WHERE status_id = $1", status_id
            )
            if removed:
                await self._db.execute("UPDATE statuses SET rev = rev + 1 WHERE id = $1", status_id)
            return None
        # In an inbox batch the statuses linking one page share its card, read once.
        memo = batch_memo(self._db)
        key = (_MEMO, url)
        card = memo.get(key) if memo is not None else None
        async with self._db.transaction() as tx:
            if not isinstance(card, PreviewCard):
                card = await self._card_for(tx, url)
                if memo is not None:
                    memo[key] = card
            changed = await tx.execute(
                "INSERT INTO status_cards (status_id, card_id) VALUES ($1, $2)"
                " ON CONFLICT (status_id) DO UPDATE SET card_id = excluded.card_id"
                " WHERE status_cards.card_id <> excluded.card_id",
                status_id,
                card.id,
            )
            if changed and card.state == FETCHED:
                await tx.execute("UPDATE statuses SET rev = rev + 1 WHERE id = $1", status_id)
        return card

    async def _card_for(self, tx: Connection, url: str) -> PreviewCard:
        # Most links were seen before (a popular page, a peer's own links): one read.
        row = await tx.fetchrow("SELECT * FROM preview_cards WHERE url = $1", url)
        if row is None:
            now = now_ms()
            await tx.execute(
                "INSERT INTO preview_cards (id, url, state, next_attempt_at, created_at)"
                " VALUES ($1, $2, 'pending', $3, $3) ON CONFLICT (url) DO NOTHING",
                new_id(),
                url,
                now,
            )
            row = await tx.fetchrow("SELECT * FROM preview_cards WHERE url = $1", url)
            assert row is not None
        return build(PreviewCard, row)

    async def get(self, card_id: int) -> PreviewCard | None:
        return build_opt(
            PreviewCard,
            await self._db.fetchrow("SELECT * FROM preview_cards WHERE id = $1", card_id),
        )

    async def by_url(self, url: str) -> PreviewCard | None:
        return build_opt(
            PreviewCard, await self._db.fetchrow("SELECT * FROM preview_cards WHERE url = $1", url)
        )

    async def for_statuses(self, status_ids: Sequence[int]) -> dict[int, PreviewCard]:
        """The fetched cards of statuses, by status id."""
        ids = sorted(set(status_ids))
        if not ids:
            return {}
        rows = await self._db.fetch(
            "SELECT sc.status_id AS shown_by, c.* FROM status_cards sc"
            " JOIN preview_cards c ON c.id = sc.card_id"
            f" WHERE sc.status_id IN ({placeholders(1, len(ids))}) AND c.state = 'fetched'",
            *ids,
        )
        return {int(r["shown_by"]): build(PreviewCard, r) for r in rows}

    async def claim(self, limit: int, *, lease_ms: int = 300_000) -> list[PreviewCard]:
        """Claim due pages; a claim is a lease, taken again when a worker dies."""
        now = now_ms()
        lock = " FOR UPDATE SKIP LOCKED" if self._db.dialect == "postgres" else ""
        rows = await self._db.fetch(
            "UPDATE preview_cards SET next_attempt_at = $1, attempts = attempts + 1 WHERE id IN ("
            " SELECT id FROM preview_cards WHERE state = 'pending' AND next_attempt_at <= $2"
            f" ORDER BY next_attempt_at LIMIT $3{lock}) RETURNING *",
            now + lease_ms,
            now,
            limit,
        )
        return build_all(PreviewCard, rows)

    async def fetched(self, card: PreviewCard, content: CardContent) -> list[int]:
        """Store what the page said; returns the statuses that now show the card."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE preview_cards SET state = 'fetched', last_error = '', type = $1,"
                " title = $2, description = $3, author_name = $4, author_url = $5,"
                " provider_name = $6, provider_url = $7, html = $8, width = $9, height = $10,"
                " embed_url = $11, language = $12, published_at = $13,"
                " image_path = CASE WHEN image_remote_url = $14 THEN image_path ELSE '' END,"
                " image_remote_url = $14, fetched_at = $15 WHERE id = $16",
                content.type,
                content.title,
                content.description,
                content.author_name,
                content.author_url,
                content.provider_name,
                content.provider_url,
                content.html,
                content.width,
                content.height,
                content.embed_url,
                content.language,
                content.published_at,
                content.image_remote_url,
                now_ms(),
                card.id,
            )
            return await _bump_statuses(tx, card.id)

    async def retry(self, card: PreviewCard, error: str, *, retry_at: int | None) -> None:
        """Try again at ``retry_at``; None gives up (``failed``: the statuses show no card)."""
        await self._db.execute(
            "UPDATE preview_cards SET state = $1, last_error = $2, next_attempt_at = $3"
            " WHERE id = $4",
            PENDING if retry_at is not None else FAILED,
            error[:500],
            retry_at if retry_at is not None else now_ms(),
            card.id,
        )

    async def make_due(self) -> int:
        """Make every pending card due now (tests; an operator's "retry now")."""
        return await self._db.execute(
            "UPDATE preview_cards SET next_attempt_at = $1 WHERE state = 'pending'", now_ms()
        )
