"""What the use cases ask of federation: look a remote account or status up, and tell peers
about a local change. One typed method per change; the application injects the
implementation (``fedinode.federation.OutboxFederator``) or ``NoFederation``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from storage.models import Account, Report, Status


class Federator(Protocol):
    """Called after a local change is committed. A failure raises: it is not swallowed here."""

    # -- lookups (None when not found, refused by policy or unreachable) -------------------

    async def resolve_account(self, acct_or_url: str) -> Account | None: ...

    async def resolve_status(self, url: str) -> Status | None: ...

    # -- statuses ---------------------------------------------------------------------------

    async def status_created(self, status: Status, author: Account | None = None) -> None:
        """``author``: the status's local author when the caller has it (not read again)."""

    async def status_updated(self, status: Status) -> None: ...

    async def status_deleted(self, status: Status, mentioned: Sequence[Account]) -> None:
        """``mentioned``: the accounts the status mentioned (its mention rows are gone)."""

    async def reblogged(self, reblog: Status) -> None: ...

    async def unreblogged(self, reblog: Status) -> None: ...

    # -- interactions -----------------------------------------------------------------------

    async def favourited(self, account: Account, status: Status, like_uri: str) -> None: ...

    async def unfavourited(
        self, account: Account, status: Status, like_uri: str | None
    ) -> None: ...

    async def poll_voted(self, account: Account, status: Status, choices: Sequence[int]) -> None:
        """A local account voted on a remote poll."""

    async def poll_votes_changed(self, status: Status) -> None:
        """A vote was counted on a local poll (its new counts go out, batched)."""

    # -- relationships ----------------------------------------------------------------------

    async def followed(self, follower: Account, target: Account, follow_uri: str) -> None: ...

    async def unfollowed(
        self, follower: Account, target: Account, follow_uri: str | None
    ) -> None: ...

    async def follow_accepted(
        self, target: Account, follower: Account, follow_uri: str | None
    ) -> None: ...

    async def follow_rejected(
        self, target: Account, follower: Account, follow_uri: str | None
    ) -> None: ...

    async def blocked(self, account: Account, target: Account, block_uri: str) -> None: ...

    async def unblocked(self, account: Account, target: Account, block_uri: str | None) -> None: ...

    # -- profile and reports ----------------------------------------------------------------

    async def profile_updated(self, account: Account) -> None: ...

    async def reported(self, report: Report) -> None:
        """Forward a report about a remote account to its server, from the instance actor."""


class NoFederation:
    """Federation off (tests, tools that only read): nothing is resolved, nothing is sent."""

    async def resolve_account(self, acct_or_url: str) -> Account | None:
        return None

    async def resolve_status(self, url: str) -> Status | None:
        return None

    async def status_created(self, status: Status, author: Account | None = None) -> None:
        return None

    async def status_updated(self, status: Status) -> None:
        return None

    async def status_deleted(self, status: Status, mentioned: Sequence[Account]) -> None:
        return None

    async def reblogged(self, reblog: Status) -> None:
        return None

    async def unreblogged(self, reblog: Status) -> None:
        return None

    async def favourited(self, account: Account, status: Status, like_uri: str) -> None:
        return None

    async def unfavourited(self, account: Account, status: Status, like_uri: str | None) -> None:
        return None

    async def poll_voted(self, account: Account, status: Status, choices: Sequence[int]) -> None:
        return None

    async def poll_votes_changed(self, status: Status) -> None:
        return None

    async def followed(self, follower: Account, target: Account, follow_uri: str) -> None:
        return None

    async def unfollowed(self, follower: Account, target: Account, follow_uri: str | None) -> None:
        return None

    async def follow_accepted(
        self, target: Account, follower: Account, follow_uri: str | None
    ) -> None:
        return None

    async def follow_rejected(
        self, target: Account, follower: Account, follow_uri: str | None
    ) -> None:
        return None

    async def blocked(self, account: Account, target: Account, block_uri: str) -> None:
        return None

    async def unblocked(self, account: Account, target: Account, block_uri: str | None) -> None:
        return None

    async def profile_updated(self, account: Account) -> None:
        return None

    async def reported(self, report: Report) -> None:
        return None


NO_FEDERATION: Federator = NoFederation()
