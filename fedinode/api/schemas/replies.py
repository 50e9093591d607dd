"""The plain answers: an error body and the empty object."""

from __future__ import annotations

from fedinode.api import entities as e


def error_to_api(message: str) -> e.Error:
    return {"error": message}


def empty_to_api() -> e.Empty:
    return {}
