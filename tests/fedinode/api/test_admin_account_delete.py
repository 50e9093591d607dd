"""DELETE /api/v1/admin/accounts/:id: a suspended account's data is erased, the account stays."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from extras_rig import make_rig

from fedinode import appkeys
from fedinode.config import Config
from fedinode.services.federator import NoFederation
from storage.accounts import NewAccount
from storage.models import Account, Status

ADMIN_SCOPES = "read write admin:read admin:write"


async def test_delete_erases_a_suspended_accounts_data(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    root = await rig.user("root", scopes=ADMIN_SCOPES, admin=True)
    bob = await rig.user("bob")
    eve = await rig.store.accounts.create(
        NewAccount(username="eve", domain="remote.test", uri="https://remote.test/users/eve")
    )
    await rig.store.accounts.update(bob.account.id, display_name="Bob", note="<p>hi</p>")
    kept = await rig.post(root, "the admin's own post")
    public = await rig.post(bob, "hello")
    private = await rig.post(bob, "@eve psst", visibility="direct", mentions=[eve.id])
    remote = await rig.post(eve, "from afar")

    deleted: list[tuple[int, list[int]]] = []

    class Deleting(NoFederation):
        async def status_deleted(self, status: Status, mentioned: Sequence[Account]) -> None:
            deleted.append((status.id, [a.id for a in mentioned]))

    rig.client.app._state[appkeys.FEDERATOR] = Deleting()  # type: ignore[attr-defined]

    path = f"/api/v1/admin/accounts/{bob.id}"
    await root.call("DELETE", path, expect=403)  # not suspended
    await bob.call("DELETE", f"/api/v1/admin/accounts/{eve.id}", expect=403)  # not an admin
    await root.call("POST", path + "/action", data={"type": "suspend"})
    erased = await root.call("DELETE", path)
    assert (erased["id"], erased["suspended"], erased["disabled"]) == (bob.id, True, True)
    assert erased["account"]["display_name"] == "" and erased["account"]["note"] == ""
    for status in (public, private):
        assert await rig.store.statuses.get(status.id) is None
    assert sorted(deleted) == sorted([(public.id, []), (private.id, [eve.id])])
    account = await rig.store.accounts.get(bob.account.id)
    assert account is not None and account.suspended  # the name stays taken
    await root.call("DELETE", path, expect=403)  # already erased
    await root.call("DELETE", "/api/v1/admin/accounts/999999", expect=404)

    # A remote account: its cached posts go, nothing is sent anywhere, the row stays suspended.
    await root.call("POST", f"/api/v1/admin/accounts/{eve.id}/action", data={"type": "suspend"})
    await root.call("DELETE", f"/api/v1/admin/accounts/{eve.id}/")
    assert await rig.store.statuses.get(remote.id) is None
    assert len(deleted) == 2
    gone = await rig.store.accounts.get(eve.id)
    assert gone is not None and gone.suspended
    assert await rig.store.statuses.get(kept.id) is not None
