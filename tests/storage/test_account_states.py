"""Every account state the admin API lists by selects exactly the accounts in it, on both
backends; a sanction logged as an enum reads back as its Mastodon word."""

from __future__ import annotations

from factories import local_account, remote_account

from storage.models import AccountAction, AccountStatus
from storage.moderation import AccountFilter
from storage.paging import Page
from storage.store import Store


async def test_each_state_lists_its_accounts(store: Store) -> None:
    alice = await local_account(store, "alice")  # in none of the sanctions
    pending = await local_account(store, "pending")
    disabled = await local_account(store, "disabled")
    silenced = await remote_account(store, "silenced")
    suspended = await remote_account(store, "suspended")
    sensitized = await remote_account(store, "sensitized")
    for account, change in ((pending, {"approved": False}), (disabled, {"disabled": True})):
        user = await store.users.by_account(account.id)
        assert user is not None
        await store.users.update(user.id, **change)
    await store.accounts.update(silenced.id, silenced=True)
    await store.accounts.update(suspended.id, suspended=True)
    await store.moderation.set_sensitized(sensitized.id, True)

    async def listed(state: AccountStatus) -> set[int]:
        rows = await store.moderation.accounts(AccountFilter(status=state), Page(limit=20))
        return {r.account.id for r in rows}

    everyone = {alice.id, pending.id, disabled.id, silenced.id, suspended.id, sensitized.id}
    assert await listed(AccountStatus.ACTIVE) == everyone - {suspended.id}
    assert await listed(AccountStatus.PENDING) == {pending.id}
    assert await listed(AccountStatus.DISABLED) == {disabled.id}
    assert await listed(AccountStatus.SILENCED) == {silenced.id}
    assert await listed(AccountStatus.SUSPENDED) == {suspended.id}
    assert await listed(AccountStatus.SENSITIZED) == {sensitized.id}
    suspended_remote = await store.accounts.list_filtered(status=AccountStatus.SUSPENDED)
    assert [a.id for a in suspended_remote] == [suspended.id]


async def test_a_logged_sanction_reads_back_as_its_word(store: Store) -> None:
    admin = await local_account(store, "admin")
    target = await remote_account(store, "target")
    await store.moderation.log(admin.id, AccountAction.SILENCE, target_account_id=target.id)
    assert [action for _, action, _ in await store.moderation.actions_on(target.id)] == ["silence"]
