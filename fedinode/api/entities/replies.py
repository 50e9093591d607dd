"""The plain answers: an error body and the empty object."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict


class Error(TypedDict):
    error: str
    error_description: NotRequired[str]


class ErrorDetail(TypedDict):
    error: str  # ERR_BLANK, ERR_TAKEN, …
    description: str


class ValidationError(TypedDict):
    """Mastodon's 422 for a sign-up: the first message and every field's problems."""

    error: str
    details: dict[str, list[ErrorDetail]]


class StatusOK(TypedDict):
    """GoToSocial's body for a done password change."""

    status: str


class Empty(TypedDict):
    """``{}``: what Mastodon answers to a dismissal, an unfollow-tag and the like."""
