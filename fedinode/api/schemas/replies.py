"""The plain answers: an error body and the empty object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fedinode.api import entities as e


def error_to_api(message: str) -> e.Error:
    return {"error": message}


def empty_to_api() -> e.Empty:
    return {}


def validation_error_to_api(
    message: str, details: Mapping[str, Sequence[Mapping[str, str]]]
) -> e.ValidationError:
    return {
        "error": message,
        "details": {
            name: [{"error": d["error"], "description": d["description"]} for d in problems]
            for name, problems in details.items()
        },
    }


def status_ok_to_api() -> e.StatusOK:
    return {"status": "OK"}
