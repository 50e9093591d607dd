"""The activities we publish, with our @context."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from activitypub import vocab
from storage.times import as2_datetime


def activity(
    type_: str,
    id_: str,
    actor: str,
    obj: object,
    *,
    to: Sequence[str] | None = None,
    cc: Sequence[str] | None = None,
    published: int | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An activity document with our @context."""
    doc: dict[str, Any] = {
        "@context": vocab.DEFAULT_CONTEXT,
        "id": id_,
        "type": type_,
        "actor": actor,
        "object": obj,
    }
    if to is not None:
        doc["to"] = list(to)
    if cc is not None:
        doc["cc"] = list(cc)
    if published is not None:
        doc["published"] = as2_datetime(published)
    if extra:
        doc.update(extra)
    return doc
