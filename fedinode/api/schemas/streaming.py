"""The streaming API's WebSocket frames and errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fedinode.api import entities as e


def stream_error_to_api(message: str, status: int | None = None) -> e.StreamError:
    out: e.StreamError = {"error": message}
    if status is not None:
        out["status"] = status
    return out


def stream_message_to_api(stream: list[str], event: str, payload: str | None) -> e.StreamMessage:
    """A WebSocket frame; the payload (an entity, or an id for ``delete``) is JSON text."""
    out: e.StreamMessage = {"stream": stream, "event": event}
    if payload is not None:
        out["payload"] = payload
    return out
