"""MediaAttachment and its ``meta``."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict


class MediaSize(TypedDict):
    width: int
    height: int
    size: str
    aspect: float


class MediaFocus(TypedDict):
    x: float
    y: float


class MediaMeta(TypedDict):
    original: NotRequired[MediaSize]
    small: NotRequired[MediaSize]
    focus: NotRequired[MediaFocus | None]


class MediaAttachment(TypedDict):
    id: str
    type: str
    url: str | None
    preview_url: str | None
    remote_url: str | None
    preview_remote_url: str | None
    text_url: str | None
    meta: MediaMeta | None
    description: str | None
    blurhash: str | None
