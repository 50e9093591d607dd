"""Exceptions of the activitypub layer; each carries an HTTP status and a safe reason.

``reason`` is safe to send to clients/peers; ``detail`` is for logs only.
"""

from __future__ import annotations


class Ignored(Exception):
    """The inbox worker understood an activity and deliberately does not apply it (logged
    at debug; the queue row is done)."""


class ActivityPubError(Exception):
    """Base error: ``ActivityPubError(status, reason)``."""

    def __init__(self, status: int, reason: str, *, detail: str = "") -> None:
        super().__init__(reason)
        self.status: int = status
        self.reason: str = reason
        self.detail: str = detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status}, {self.reason!r})"


class _DefaultStatus(ActivityPubError):
    default_status = 400

    def __init__(self, reason: str, *, status: int | None = None, detail: str = "") -> None:
        super().__init__(
            status if status is not None else self.default_status, reason, detail=detail
        )


class SignatureError(_DefaultStatus):
    """HTTP signature missing, malformed, stale or not verifying (401)."""

    default_status = 401


class MalformedActivity(_DefaultStatus):
    """The document is not an activity we can read (400)."""

    default_status = 400


class ObjectDeleted(MalformedActivity):
    """The object was deleted by its author (a tombstone is recorded): never stored again."""

    default_status = 410


class FetchError(_DefaultStatus):
    """A remote fetch failed: network, status, content type, spoofed id (502).

    ``remote_status`` is the peer's HTTP status when it answered (404/410 tell "gone").
    """

    default_status = 502

    def __init__(
        self,
        reason: str,
        *,
        status: int | None = None,
        detail: str = "",
        remote_status: int | None = None,
    ) -> None:
        super().__init__(reason, status=status, detail=detail)
        self.remote_status: int | None = remote_status


class RefusedAddress(FetchError, OSError):
    """SSRF guard refused a destination (private address, wrong scheme).

    Also an ``OSError`` so aiohttp reports it as a connection error when raised from
    the resolver.
    """

    default_status = 403


class TooLarge(_DefaultStatus):
    """A body exceeded its size cap (413)."""

    default_status = 413


class NetworkDeferred(Exception):
    """A fetch was asked for where none may wait on the network (``fetch.offline``): the
    work is done again later, outside it. Not a FetchError: nothing may take it for a
    failed fetch and go on without what it would have fetched."""
