"""Acceptance: the real Mastodon.py library reads grouped notifications (Mastodon 4.3's
/api/v2/notifications and its group, accounts, unread count and dismiss endpoints) from a
running instance, and every answer comes back as the library's typed entities with the
right values.

The instance runs in this event loop on loopback; Mastodon.py is synchronous, so it runs in
a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import mastodon  # in the test extra: CI must run these, never skip them
import pytest
from federation.conftest import Instance, free_port
from mastodon import return_types as rt
from mastodon_py_rig import SCOPES, log_in

PASSWORD = "correct horse battery"  # what Instance.user sets


@pytest.fixture
async def instance(database_url: str, tmp_path: Path) -> AsyncIterator[Instance]:
    node = Instance("grouped", free_port(), database_url, tmp_path / "grouped")
    await node.start()
    for name in ("alice", "bob", "carol", "dave"):
        await node.user(name)
    try:
        yield node
    finally:
        await node.stop()


def _session(base: str, login: str, scopes: list[str] = SCOPES) -> Any:
    return log_in(base, login, PASSWORD, scopes, app="grouped")


def _scenario(base: str) -> None:
    alice, bob, carol, dave = (_session(base, n) for n in ("alice", "bob", "carol", "dave"))
    ids = {n: str(s.me().id) for n, s in (("bob", bob), ("carol", carol), ("dave", dave))}
    status = alice.status_post("favourite me")
    bob.status_favourite(status)
    carol.status_favourite(status)
    dave.account_follow(alice.me())

    results = alice.grouped_notifications()
    assert isinstance(results, rt.GroupedNotificationsResults)
    groups = results.notification_groups
    assert all(isinstance(g, rt.NotificationGroup) for g in groups)
    assert [g.type for g in groups] == ["follow", "favourite"]
    follow, favourite = groups
    assert favourite.notifications_count == 2 and str(favourite.status_id) == str(status.id)
    assert [str(a) for a in favourite.sample_account_ids] == [ids["carol"], ids["bob"]]
    assert [str(a) for a in follow.sample_account_ids] == [ids["dave"]]
    # Mastodon.py asks for partial_avatars by default: the newest account of each group
    # whole, the group's other sample accounts in part.
    assert [str(a.id) for a in results.accounts] == [ids["dave"], ids["carol"]]
    assert all(isinstance(a, rt.Account) for a in results.accounts)
    assert results.partial_accounts is not None
    [partial] = results.partial_accounts
    assert isinstance(partial, rt.PartialAccountWithAvatar)
    assert str(partial.id) == ids["bob"] and partial.acct == "bob" and partial.bot is False
    assert partial.avatar.startswith("http")
    full = alice.grouped_notifications(expand_accounts="full")
    assert {str(a.id) for a in full.accounts} == set(ids.values())
    assert not full.get("partial_accounts")
    assert [str(s.id) for s in results.statuses] == [str(status.id)]

    one = alice.grouped_notification(favourite.group_key)
    assert isinstance(one, rt.GroupedNotificationsResults)
    [group] = one.notification_groups
    assert isinstance(group, rt.NotificationGroup)
    assert group.group_key == favourite.group_key and group.type == "favourite"
    assert group.notifications_count == 2
    assert [str(a) for a in group.sample_account_ids] == [ids["carol"], ids["bob"]]
    assert [a.acct for a in one.accounts] == ["carol", "bob"]
    assert [s.content for s in one.statuses] == [status.content]

    accounts = alice.grouped_notification_accounts(favourite.group_key)
    assert all(isinstance(a, rt.Account) for a in accounts)
    assert [a.acct for a in accounts] == ["carol", "bob"]
    assert [a.acct for a in alice.grouped_notification_accounts(follow.group_key)] == ["dave"]

    # Nothing is read yet: two groups, however many notifications they hold.
    assert alice.unread_grouped_notifications_count() == 2

    alice.dismiss_grouped_notification(favourite.group_key)
    left = alice.grouped_notifications().notification_groups
    assert [g.group_key for g in left] == [follow.group_key]
    assert alice.unread_grouped_notifications_count() == 1
    with pytest.raises(mastodon.MastodonNotFoundError):
        alice.grouped_notification(favourite.group_key)
    # Not alice's: bob cannot read her groups.
    with pytest.raises(mastodon.MastodonNotFoundError):
        bob.grouped_notification(follow.group_key)


async def test_mastodon_py_reads_and_dismisses_grouped_notifications(
    instance: Instance,
) -> None:
    await asyncio.to_thread(_scenario, f"http://{instance.domain}")
