"""Reports by users, and the admin API for accounts and reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from extras_rig import Rig, User, make_rig

from fedinode.config import Config
from fedinode.services.federator import NoFederation
from storage.accounts import NewAccount
from storage.models import Report

ADMIN_SCOPES = "read write admin:read admin:write"


async def admin_of(rig: Rig, name: str = "root", scopes: str = ADMIN_SCOPES) -> User:
    return await rig.user(name, scopes=scopes, admin=True)


async def test_report_notifies_admins_and_forwards_remote(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    root = await admin_of(rig)
    alice, bob = await rig.user("alice"), await rig.user("bob")
    bad = await rig.post(bob, "spam spam")
    report = await alice.call(
        "POST",
        "/api/v1/reports",
        json={
            "account_id": bob.id,
            "status_ids": [str(bad.id)],
            "comment": "spam",
            "category": "spam",
        },
    )
    assert report["category"] == "spam" and report["target_account"]["id"] == bob.id
    assert report["status_ids"] == [str(bad.id)] and report["action_taken"] is False
    notes = await root.call("GET", "/api/v1/notifications")
    assert [(n["type"], n["account"]["id"]) for n in notes] == [("admin.report", alice.id)]
    assert await alice.call("GET", "/api/v1/notifications") == []
    await alice.call("POST", "/api/v1/reports", json={"account_id": "999"}, expect=404)
    other = await rig.post(alice, "mine")
    await alice.call(
        "POST",
        "/api/v1/reports",
        json={"account_id": bob.id, "status_ids": [str(other.id)]},
        expect=422,
    )

    forwarded: list[tuple[Any, bool]] = []

    class Forwarding(NoFederation):
        async def reported(self, report: Report) -> None:
            forwarded.append((report, True))  # always sent as the instance

    from fedinode import appkeys

    rig.client.app._state[appkeys.FEDERATOR] = Forwarding()  # type: ignore[attr-defined]
    eve = await rig.store.accounts.create(
        NewAccount(username="eve", domain="remote.test", uri="https://remote.test/users/eve")
    )
    got = await alice.call(
        "POST", "/api/v1/reports", json={"account_id": str(eve.id), "forward": True}
    )
    assert got["forwarded"] is True
    assert [(r.target_account_id, inst) for r, inst in forwarded] == [(eve.id, True)]
    local = await alice.call(
        "POST", "/api/v1/reports", json={"account_id": bob.id, "forward": True}
    )
    assert local["forwarded"] is False and len(forwarded) == 1


async def test_admin_scope_and_role_refusals(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    alice = await rig.user("alice", scopes=ADMIN_SCOPES)
    reader = await admin_of(rig, "reader", scopes="read write")
    read_only = await admin_of(rig, "auditor", scopes="admin:read")
    for user in (alice, reader):
        await user.call("GET", "/api/v1/admin/accounts", expect=403)
        await user.call("GET", "/api/v1/admin/reports", expect=403)
    assert len(await read_only.call("GET", "/api/v1/admin/accounts")) == 3
    await read_only.call(
        "POST", f"/api/v1/admin/accounts/{alice.id}/action", json={"type": "silence"}, expect=403
    )
    await read_only.call("GET", "/api/v1/admin/reports")
    resp = await rig.client.get("/api/v1/admin/accounts")
    assert resp.status == 401


async def test_admin_accounts_filters_actions_and_approval(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    root = await admin_of(rig)
    alice, bob = await rig.user("alice"), await rig.user("bob")
    eve = await rig.store.accounts.create(
        NewAccount(username="eve", domain="remote.test", uri="https://remote.test/users/eve")
    )
    bob_user = await rig.store.users.by_account(bob.account.id)
    assert bob_user is not None
    await rig.store.users.update(bob_user.id, approved=False)

    local = await root.call("GET", "/api/v1/admin/accounts", params={"local": "true"})
    assert {a["username"] for a in local} == {"root", "alice", "bob"}
    remote = await root.call("GET", "/api/v2/admin/accounts", params={"origin": "remote"})
    assert [(a["username"], a["domain"], a["email"]) for a in remote] == [
        ("eve", "remote.test", None)
    ]
    pending = await root.call("GET", "/api/v1/admin/accounts", params={"pending": "true"})
    assert [a["id"] for a in pending] == [bob.id] and pending[0]["approved"] is False
    page = await root.call("GET", "/api/v1/admin/accounts", params={"limit": 2})
    assert len(page) == 2

    approved = await root.call("POST", f"/api/v1/admin/accounts/{bob.id}/approve")
    assert approved["approved"] is True
    await root.call("POST", f"/api/v1/admin/accounts/{bob.id}/approve", expect=403)

    await alice.call(
        "POST", "/api/v1/reports", json={"account_id": str(eve.id), "comment": "troll"}
    )
    await root.call("POST", f"/api/v1/admin/accounts/{eve.id}/action", json={"type": "silence"})
    got = await root.call("GET", f"/api/v1/admin/accounts/{eve.id}")
    assert got["silenced"] is True
    assert await root.call("GET", "/api/v1/admin/reports") == []  # settled by the action
    assert (await root.call("GET", "/api/v1/admin/accounts", params={"silenced": "true"}))[0][
        "id"
    ] == str(eve.id)
    assert (await root.call("POST", f"/api/v1/admin/accounts/{eve.id}/unsilence"))[
        "silenced"
    ] is False
    await root.call("POST", f"/api/v1/admin/accounts/{eve.id}/action", json={"type": "sensitive"})
    assert (await root.call("GET", f"/api/v1/admin/accounts/{eve.id}"))["sensitized"] is True

    await root.call("POST", f"/api/v1/admin/accounts/{alice.id}/action", json={"type": "disable"})
    await alice.call("GET", "/api/v1/lists", expect=401)  # tokens revoked
    assert (await root.call("GET", f"/api/v1/admin/accounts/{alice.id}"))["disabled"] is True
    await root.call("POST", f"/api/v1/admin/accounts/{alice.id}/enable")
    await root.call("POST", f"/api/v1/admin/accounts/{alice.id}/action", json={"type": "suspend"})
    assert (await root.call("GET", f"/api/v1/admin/accounts/{alice.id}"))["suspended"] is True
    await root.call(
        "POST", f"/api/v1/admin/accounts/{alice.id}/action", json={"type": "explode"}, expect=422
    )
    await root.call(
        "POST", f"/api/v1/admin/accounts/{root.id}/action", json={"type": "suspend"}, expect=403
    )


async def test_admin_reports_flow(aiohttp_client: Any, config: Config, tmp_path: Path) -> None:
    rig = await make_rig(aiohttp_client, config, tmp_path)
    root = await admin_of(rig)
    alice, bob = await rig.user("alice"), await rig.user("bob")
    bad = await rig.post(bob, "rude", visibility="private")
    await rig.store.relationships.follow(alice.account.id, bob.account.id)
    made = await alice.call(
        "POST", "/api/v1/reports", json={"account_id": bob.id, "status_ids": [str(bad.id)]}
    )
    rid = made["id"]
    listed = await root.call("GET", "/api/v1/admin/reports")
    assert [r["id"] for r in listed] == [rid]
    one = listed[0]
    assert (
        one["account"]["account"]["username"] == "alice"
        and one["target_account"]["username"] == "bob"
    )
    assert [s["id"] for s in one["statuses"]] == [str(bad.id)]
    assigned = await root.call("POST", f"/api/v1/admin/reports/{rid}/assign_to_self")
    assert assigned["assigned_account"]["id"] == root.id
    assert (await root.call("POST", f"/api/v1/admin/reports/{rid}/unassign"))[
        "assigned_account"
    ] is None
    resolved = await root.call("POST", f"/api/v1/admin/reports/{rid}/resolve")
    assert resolved["action_taken"] is True and resolved["action_taken_by_account"]["id"] == root.id
    assert await root.call("GET", "/api/v1/admin/reports") == []
    assert [
        r["id"]
        for r in await root.call("GET", "/api/v1/admin/reports", params={"resolved": "true"})
    ] == [rid]
    reopened = await root.call("POST", f"/api/v1/admin/reports/{rid}/reopen")
    assert reopened["action_taken"] is False
    await root.call("GET", "/api/v1/admin/reports/12345", expect=404)


async def test_admin_account_states_from_the_api(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    """v1 flags and the v2 ``status`` name states; a state v2 does not know (or none) lists
    everyone, and an action without a known type is 422."""
    rig = await make_rig(aiohttp_client, config, tmp_path)
    root = await admin_of(rig)
    alice, bob = await rig.user("alice"), await rig.user("bob")
    await root.call("POST", f"/api/v1/admin/accounts/{bob.id}/action", json={"type": "sensitive"})
    await root.call("POST", f"/api/v1/admin/accounts/{alice.id}/action", json={"type": "silence"})

    def ids(rows: list[dict[str, Any]]) -> set[str]:
        return {r["id"] for r in rows}

    everyone = ids(await root.call("GET", "/api/v2/admin/accounts"))
    assert {alice.id, bob.id, root.id} <= everyone
    v1 = await root.call("GET", "/api/v1/admin/accounts", params={"sensitized": "true"})
    assert ids(v1) == {bob.id}
    v2 = await root.call("GET", "/api/v2/admin/accounts", params={"status": "silenced"})
    assert ids(v2) == {alice.id}
    for unknown in ("sensitized", "bogus", ""):
        rows = await root.call("GET", "/api/v2/admin/accounts", params={"status": unknown})
        assert ids(rows) == everyone
    for body in ({}, {"type": ""}, {"type": "SILENCE"}):
        await root.call("POST", f"/api/v1/admin/accounts/{bob.id}/action", json=body, expect=422)
    assert (await root.call("GET", f"/api/v1/admin/accounts/{bob.id}"))["silenced"] is False
