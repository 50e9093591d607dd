"""What happened, told once: the seam between "a change was stored" and its side effects.

The inbox worker (remote events) and the application's use cases (local events) call the
same methods after they have stored a change; the application implements them
(``fedinode.services.surface.SideEffects``): notifications for local accounts and events
for the streaming API. One implementation for both means a follow, a favourite or a
mention looks the same to the person it concerns wherever it came from (GoToSocial's
``Surface`` in ``internal/processing/workers`` is the model).

Telling peers of a local change is the job of whoever made it (the use cases call their
``Federator``). The inbox does not tell peers anything itself: where an incoming activity
calls for an answer (an Accept or Reject of a Follow, a local poll's new counts, a moved
account's local followers following its new home) it says what happened here, and the
application's implementation answers through the same ``Federator``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from storage.models import Account, MediaAttachment, Mention, Report, Status
from storage.polls import EndedPoll


class Surface(Protocol):
    # -- statuses ---------------------------------------------------------------------------

    async def status_created(
        self,
        status: Status,
        author: Account,
        *,
        mentions: Sequence[Mention] | None = None,
        media: list[MediaAttachment] | None = None,
    ) -> None:
        """A new post (not a reblog): streams; its mentioned local accounts and the
        author's followers who asked to hear of new posts are notified. ``mentions`` and
        ``media``: the status's, when the caller just stored them (read otherwise)."""

    async def status_updated(self, status: Status, author: Account) -> None:
        """A post was edited: streams; local accounts that reblogged or favourited it hear."""

    async def status_deleted(self, status: Status) -> None:
        """A post or a reblog is gone: streams drop it."""

    async def poll_counts_changed(self, status: Status) -> None:
        """A poll's tallies changed (a vote, or its origin's new counts): streams."""

    async def poll_vote_counted(self, status: Status) -> None:
        """A remote vote was counted on a local poll: streams; the new counts go to peers."""

    async def poll_ended(self, ended: EndedPoll) -> None:
        """A poll closed; its notifications were stored with it and go out now."""

    # -- interactions -----------------------------------------------------------------------

    async def reblogged(self, reblog: Status, original: Status, account: Account) -> None:
        """``account`` reblogged ``original``: streams; the original's author hears."""

    async def favourited(self, account: Account, status: Status) -> None:
        """``account`` favourited ``status`` (the first time): its author hears."""

    # -- relationships ----------------------------------------------------------------------

    async def followed(self, follower: Account, target: Account) -> None:
        """``follower`` now follows ``target`` (directly, or once a request was accepted)."""

    async def follow_requested(self, follower: Account, target: Account) -> None:
        """``follower`` asked to follow the locked ``target``."""

    async def follow_accepted(self, target: Account, follower: Account, follow_uri: str) -> None:
        """The local ``target`` accepted the remote ``follower``'s Follow ``follow_uri`` (it is
        not locked, or the follow already stood): the follower's server is told."""

    async def follow_rejected(self, target: Account, follower: Account, follow_uri: str) -> None:
        """The local ``target`` refused the remote ``follower``'s Follow (a block stands
        between them): the follower's server is told."""

    async def moved(self, account: Account, follower: Account) -> None:
        """``account`` moved; ``follower`` (local) was taken to its new home."""

    async def follow_moved(self, follower: Account, target: Account, follow_uri: str) -> None:
        """The local ``follower`` of a moved account now asks to follow its new home, the
        remote ``target``, with the Follow ``follow_uri``: the target's server is told."""

    # -- moderation -------------------------------------------------------------------------

    async def reported(self, report: Report, reporter: Account) -> None:
        """A report was filed (here or forwarded by a peer): the admins hear."""
