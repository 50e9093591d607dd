"""The services call typed federation methods, and a failure there reaches the caller."""

from __future__ import annotations

import pytest

from activitypub.urls import Urls
from fedinode.config import Config
from fedinode.services import follows, statuses
from fedinode.services.context import Ctx
from fedinode.services.federator import NoFederation
from fedinode.services.users import create_local_user
from storage.accounts import NewAccount
from storage.models import Account, Status
from storage.paging import Page
from storage.store import Store


class Unreachable(Exception):
    pass


class Failing(NoFederation):
    async def status_created(self, status: Status, author: Account | None = None) -> None:
        raise Unreachable(status.uri)


class Recording(NoFederation):
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, str | None]] = []

    async def followed(self, follower: Account, target: Account, follow_uri: str) -> None:
        self.calls.append(("followed", target.id, follow_uri))

    async def unfollowed(self, follower: Account, target: Account, follow_uri: str | None) -> None:
        self.calls.append(("unfollowed", target.id, follow_uri))

    async def blocked(self, account: Account, target: Account, block_uri: str) -> None:
        self.calls.append(("blocked", target.id, block_uri))

    async def unblocked(self, account: Account, target: Account, block_uri: str | None) -> None:
        self.calls.append(("unblocked", target.id, block_uri))


def _post(text: str) -> statuses.StatusInput:
    return statuses.StatusInput(text=text, media_ids=[], poll=None, in_reply_to_id=None,
                                sensitive=False, spoiler_text="", visibility="public",
                                language=None)  # fmt: skip


async def _alice(store: Store, config: Config) -> Account:
    _, account = await create_local_user(
        store, Urls(config.base_url), username="alice", email="alice@local.test",
        password="correct horse battery",
    )  # fmt: skip
    return account


async def test_a_federation_failure_reaches_the_caller(store: Store, config: Config) -> None:
    ctx = Ctx(store, config, Urls(config.base_url), federation=Failing())
    alice = await _alice(store, config)
    with pytest.raises(Unreachable):
        await statuses.post_status(ctx, alice, _post("hello"), application_id=None,
                                   idempotency_key=None)  # fmt: skip
    # The status itself is committed; only telling peers failed, and the caller knows it.
    posted = await store.statuses.account_statuses(alice.id, alice.id, Page())
    assert [s.text for s in posted] == ["hello"]


async def test_relationship_changes_reach_the_federator_with_their_activity_ids(
    store: Store, config: Config
) -> None:
    recording = Recording()
    ctx = Ctx(store, config, Urls(config.base_url), federation=recording)
    alice = await _alice(store, config)
    bob = await store.accounts.create(
        NewAccount(username="bob", domain="remote.test", uri="https://remote.test/users/bob",
                   inbox_url="https://remote.test/users/bob/inbox")
    )  # fmt: skip
    await follows.follow(ctx, alice, bob, reblogs=None, notify_posts=None)
    await follows.unfollow(ctx, alice, bob)
    await follows.block(ctx, alice, bob)
    await follows.unblock(ctx, alice, bob)
    kinds = [(kind, target) for kind, target, _ in recording.calls]
    assert kinds == [("followed", bob.id), ("unfollowed", bob.id), ("blocked", bob.id),
                     ("unblocked", bob.id)]  # fmt: skip
    follow_uri, undone_uri, block_uri, unblock_uri = [uri for _, _, uri in recording.calls]
    # The Undo names the very activity it takes back.
    assert follow_uri and follow_uri == undone_uri
    assert block_uri and block_uri == unblock_uri
