"""The plain answers: an error body and the empty object."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict


class Error(TypedDict):
    error: str
    error_description: NotRequired[str]


class Empty(TypedDict):
    """``{}``: what Mastodon answers to a dismissal, an unfollow-tag and the like."""
