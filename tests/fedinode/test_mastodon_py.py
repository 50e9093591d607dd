"""Acceptance: the real Mastodon.py library drives a running instance over HTTP.

The instance runs in this event loop (aiohttp AppRunner on an ephemeral loopback port);
Mastodon.py is synchronous, so it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import AsyncIterator
from typing import Any

import mastodon  # in the test extra: CI must run these, never skip them
import pytest
from aiohttp import web
from mastodon_py_rig import ADMIN_SCOPES, SCOPES, log_in

from activitypub.urls import Urls
from fedinode import appkeys
from fedinode.app import create_app
from fedinode.config import Config, load_config
from fedinode.services.users import create_local_user

PASSWORD = "acceptance-password"


def _config(database_url: str, port: int) -> Config:
    base = load_config(None, environ={})
    return dataclasses.replace(
        base,
        instance=dataclasses.replace(base.instance, domain=f"127.0.0.1:{port}"),
        database=dataclasses.replace(base.database, url=database_url),
        federation=dataclasses.replace(base.federation, scheme="http"),
    )


@pytest.fixture
async def instance(database_url: str) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = _config(database_url, port)
    app = create_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    store = app[appkeys.STORE]
    for name in ("alice", "bob", "root", "carol", "dave", "erin"):
        user, _ = await create_local_user(
            store,
            Urls(config.base_url),
            username=name,
            email=f"{name}@example.org",
            password=PASSWORD,
            admin=name == "root",
        )
        if name in ("dave", "erin"):  # sign-ups waiting for an admin
            await store.users.update(user.id, approved=False)
    try:
        yield config.base_url
    finally:
        await runner.cleanup()




def _session(base: str, login: str, scopes: list[str] = SCOPES) -> Any:
    return log_in(base, login, PASSWORD, scopes)


def _scenario(base: str) -> None:
    alice = _session(base, "alice")
    bob = _session(base, "bob@example.org")  # email works as the login too
    me = alice.account_verify_credentials()
    assert me.username == "alice"
    assert bob.account_verify_credentials().acct == "bob"

    rel = bob.account_follow(me.id)
    assert rel.following is True
    assert [a.acct for a in alice.account_followers(me.id)] == ["bob"]

    posted = [alice.status_post(f"post {i} #acceptance") for i in range(7)]
    reply = bob.status_post("@alice nice", in_reply_to_id=posted[-1].id)
    assert reply.in_reply_to_id == posted[-1].id
    ctx = alice.status_context(posted[-1].id)
    assert [s.id for s in ctx.descendants] == [reply.id]

    # Paging the home timeline two at a time: everything, once, newest first.
    page = bob.timeline_home(limit=2)
    seen = []
    while page:
        seen.extend(s.id for s in page)
        page = bob.fetch_next(page)
    expected = [reply.id] + [s.id for s in reversed(posted)]
    assert seen == expected

    # Notifications: bob followed alice and mentioned her.
    types = [n.type for n in alice.notifications()]
    assert types == ["mention", "follow"]

    fav = bob.status_favourite(posted[0].id)
    assert fav.favourited is True
    assert alice.notifications(types=["favourite"])[0].account.acct == "bob"

    deleted = alice.status_delete(posted[1].id)
    assert deleted.text == "post 1 #acceptance"
    ids_after = [s.id for s in bob.timeline_home(limit=40)]
    assert posted[1].id not in ids_after and len(ids_after) == len(expected) - 1
    tagged = alice.timeline_hashtag("acceptance", limit=40)
    assert len(tagged) == 6

    bob.account_unfollow(me.id)
    assert [s.id for s in bob.timeline_home(limit=40)] == [reply.id]


async def test_mastodon_py_end_to_end(instance: str) -> None:
    await asyncio.to_thread(_scenario, instance)


def _admin_domains(root: Any) -> None:
    """Domain blocks and allows, exactly as Mastodon.py sends them (trailing slashes included)."""
    made = root.admin_create_domain_block(
        "spam.example", severity="silence", reject_media=True, public_comment="spam"
    )
    assert (made.domain, made.severity, made.reject_media) == ("spam.example", "silence", True)
    assert made.public_comment == "spam" and made.reject_reports is False
    assert made.created_at is not None
    other = root.admin_create_domain_block("worse.example", severity="suspend", obfuscate=True)
    assert other.severity == "suspend" and other.obfuscate is True
    assert [b.domain for b in root.admin_domain_blocks()] == ["worse.example", "spam.example"]
    assert root.admin_domain_blocks(id=made.id).domain == "spam.example"

    updated = root.admin_update_domain_block(made.id, severity="suspend", private_comment="p")
    assert (updated.id, updated.severity, updated.private_comment) == (made.id, "suspend", "p")
    assert updated.reject_media is True  # left as it was
    root.admin_delete_domain_block(made.id)
    root.admin_delete_domain_block(other)
    assert root.admin_domain_blocks() == []
    with pytest.raises(mastodon.MastodonNotFoundError):
        root.admin_domain_blocks(id=made.id)

    allow = root.admin_create_domain_allow("friends.example")
    assert allow.domain == "friends.example" and allow.created_at is not None
    again = root.admin_create_domain_allow("friends.example")  # already there: the same record
    assert again.id == allow.id
    second = root.admin_create_domain_allow("pals.example")
    page = root.admin_domain_allows(limit=1)
    assert [a.id for a in page] == [second.id]
    assert [a.id for a in root.fetch_next(page)] == [allow.id]
    assert root.admin_domain_allow(allow.id).domain == "friends.example"
    root.admin_delete_domain_allow(allow)
    root.admin_delete_domain_allow(second.id)
    assert root.admin_domain_allows() == []


def _admin_accounts_and_reports(root: Any, bob: Any, carols: Any) -> None:
    carol = root.account_lookup("carol")
    # admin_accounts (v1) hands back plain dicts: Mastodon.py declares one entity, not a list.
    listed = root.admin_accounts()
    # "active" is Mastodon's "not suspended": sign-ups waiting for approval are in it.
    assert {a["username"] for a in listed} == {"alice", "bob", "carol", "root", "dave", "erin"}
    pending = root.admin_accounts_v2(status="pending")
    assert {a.username for a in pending} == {"dave", "erin"}
    assert all(a.approved is False for a in pending)
    assert {a["username"] for a in root.admin_accounts(status="pending")} == {"dave", "erin"}
    dave, erin = sorted(pending, key=lambda a: a.username)
    approved = root.admin_account_approve(dave.id)
    assert (approved.username, approved.approved) == ("dave", True)
    with pytest.raises(mastodon.MastodonAPIError):  # 403: no longer pending
        root.admin_account_approve(dave.id)
    rejected = root.admin_account_reject(erin)
    assert rejected.username == "erin"
    with pytest.raises(mastodon.MastodonNotFoundError):
        root.admin_account(erin.id)
    assert [a.username for a in root.admin_accounts_v2(status="pending")] == []
    assert {a.username for a in root.admin_accounts_v2(origin="local", username="car")} == {"carol"}
    assert [a.username for a in root.admin_accounts_v2(permissions="staff")] == ["root"]
    one = root.admin_account(carol.id)
    assert (one.username, one.email, one.account.id) == ("carol", "carol@example.org", carol.id)
    assert one.silenced is False and one.disabled is False and one.confirmed is True

    post = root.status_post("@carol hello")  # something for bob to report carol about
    reported = carols.status_post("rude words")
    report = bob.report(carol.id, status_ids=[reported.id], comment="rude", category="other")
    assert report.target_account.id == carol.id
    reports = root.admin_reports()
    assert [r.id for r in reports] == [report.id]
    seen = root.admin_report(report.id)
    assert seen.account.username == "bob" and seen.target_account.username == "carol"
    assert [s.id for s in seen.statuses] == [reported.id] and seen.action_taken is False
    assigned = root.admin_report_assign(report.id)
    assert assigned.assigned_account.username == "root"
    assert root.admin_report_unassign(report.id).assigned_account is None
    resolved = root.admin_report_resolve(report.id)
    assert resolved.action_taken is True
    assert resolved.action_taken_by_account.username == "root"
    assert root.admin_reports() == []
    assert [r.id for r in root.admin_reports(resolved=True)] == [report.id]
    assert root.admin_report_reopen(report.id).action_taken is False

    # Moderation: a silence settles the open report it names.
    root.admin_account_moderate(carol.id, "silence", report_id=report.id, text="calm down")
    assert root.admin_account(carol.id).silenced is True
    assert root.admin_report(report.id).action_taken is True
    assert [a.username for a in root.admin_accounts_v2(status="silenced")] == ["carol"]
    assert [a["username"] for a in root.admin_accounts(status="silenced")] == ["carol"]
    assert root.admin_account_unsilence(carol.id).silenced is False
    root.admin_account_moderate(carol.id, "sensitive")
    assert root.admin_account(carol.id).sensitized is True
    assert root.admin_account_unsensitive(carol.id).sensitized is False
    root.admin_account_moderate(carol.id, "disable")
    assert root.admin_account(carol.id).disabled is True
    assert [a.username for a in root.admin_accounts_v2(status="disabled")] == ["carol"]
    assert root.admin_account_enable(carol.id).disabled is False
    root.admin_account_moderate(carol.id, "suspend")
    assert root.admin_account(carol.id).suspended is True
    assert root.admin_account_unsuspend(carol.id).suspended is False
    root.admin_account_moderate(carol.id)  # a warning only
    assert root.admin_account(carol.id).suspended is False

    # Erasing data is for suspended accounts only; the account stays, suspended.
    with pytest.raises(mastodon.MastodonAPIError):  # 403
        root.admin_account_delete(carol.id)
    root.admin_account_moderate(carol.id, "suspend")
    erased = root.admin_account_delete(carol.id)
    assert (erased.username, erased.suspended, erased.disabled) == ("carol", True, True)
    assert erased.account.statuses_count == 0
    with pytest.raises(mastodon.MastodonNotFoundError):
        root.status(reported.id)
    assert root.admin_report(report.id).statuses == []  # the report outlives the post
    with pytest.raises(mastodon.MastodonAPIError):  # 403: already erased
        root.admin_account_delete(carol.id)
    with pytest.raises(mastodon.MastodonUnauthorizedError):  # its tokens went with it
        carols.account_verify_credentials()
    root.status_delete(post.id)


def _admin_scenario(base: str) -> None:
    root = _session(base, "root", ADMIN_SCOPES)
    bob = _session(base, "bob")
    _admin_domains(root)
    _admin_accounts_and_reports(root, bob, _session(base, "carol"))
    # A user who is not an admin is refused, whatever scopes the token holds.
    not_admin = _session(base, "alice", ADMIN_SCOPES)
    with pytest.raises(mastodon.MastodonAPIError):
        not_admin.admin_domain_blocks()
    with pytest.raises(mastodon.MastodonAPIError):
        not_admin.admin_accounts_v2()


async def test_mastodon_py_admin(instance: str) -> None:
    await asyncio.to_thread(_admin_scenario, instance)


def _domain_blocks_scenario(base: str) -> None:
    alice = _session(base, "alice")
    assert list(alice.domain_blocks()) == []
    alice.domain_block("Blocked.Example")
    alice.domain_block("other.example")
    assert list(alice.domain_blocks()) == ["other.example", "blocked.example"]
    assert list(alice.domain_blocks(limit=1)) == ["other.example"]
    alice.domain_unblock("other.example")
    assert list(alice.domain_blocks()) == ["blocked.example"]


async def test_mastodon_py_domain_blocks(instance: str) -> None:
    await asyncio.to_thread(_domain_blocks_scenario, instance)
