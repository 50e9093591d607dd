"""The ordered collections and pages we publish (outboxes, followers, hashtags)."""

from __future__ import annotations

from typing import Any

from activitypub import vocab


def ordered_collection(
    id_: str, total: int, first: str | dict[str, Any] | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": vocab.DEFAULT_CONTEXT,
        "id": id_,
        "type": vocab.ORDERED_COLLECTION,
        "totalItems": total,
    }
    if first is not None:
        doc["first"] = first
    return doc


def ordered_page(
    id_: str, part_of: str, items: list[Any], next_: str | None, total: int | None = None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": vocab.DEFAULT_CONTEXT,
        "id": id_,
        "type": vocab.ORDERED_COLLECTION_PAGE,
        "partOf": part_of,
        "orderedItems": items,
    }
    if total is not None:
        doc["totalItems"] = total
    if next_ is not None:
        doc["next"] = next_
    return doc
