"""What the streaming API sends over a WebSocket."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict


class StreamError(TypedDict):
    """An error on a streaming connection (``status`` over WebSocket)."""

    error: str
    status: NotRequired[int]


class StreamMessage(TypedDict):
    """One WebSocket frame of the streaming API: ``payload`` is JSON text (an entity)."""

    stream: list[str]
    event: str
    payload: NotRequired[str]
