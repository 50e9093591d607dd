"""Errors raised by the policy package (a rejection is a verdict, never an exception)."""

from __future__ import annotations


class PolicyConfigError(ValueError):
    """The [policy] configuration is invalid; `key` is the full path of the offending key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message
