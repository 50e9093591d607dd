"""Errors the client API raises; the error middleware turns them into Mastodon bodies."""

from __future__ import annotations


class ApiError(Exception):
    """An error with an HTTP status and a message safe to show clients."""

    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class ValidationFailed(ApiError):
    status = 422


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFoundError(ApiError):
    status = 404

    def __init__(self, message: str = "Record not found") -> None:
        super().__init__(message)


class RateLimited(ApiError):
    status = 429
