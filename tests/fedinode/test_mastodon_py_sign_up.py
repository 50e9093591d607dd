"""Acceptance: Mastodon.py's ``create_account`` against a running instance that asks for
e-mail confirmation (a real SMTP server on loopback) and an admin's approval."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Any

import mastodon  # in the test extra: CI must run these, never skip them
import pytest
from aiohttp import web
from mail_rig import Mailbox, link_in, smtp_server

from activitypub.urls import Urls
from fedinode import appkeys
from fedinode.app import create_app
from fedinode.config import load_config
from fedinode.services.users import create_local_user

PASSWORD = "acceptance-password"
SCOPES = ["read", "write", "follow", "push"]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
async def instance(database_url: str, mailbox: Mailbox) -> AsyncIterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base = load_config(None, environ={})
    config = dataclasses.replace(
        base,
        instance=dataclasses.replace(
            base.instance, domain=f"127.0.0.1:{port}", registrations="approval"
        ),
        database=dataclasses.replace(base.database, url=database_url),
        federation=dataclasses.replace(base.federation, scheme="http"),
        email=dataclasses.replace(base.email, host=mailbox.host, port=mailbox.port),
    )
    app = create_app(config)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    await create_local_user(app[appkeys.STORE], Urls(config.base_url), username="root",
                            email="root@example.org", password=PASSWORD, admin=True)  # fmt: skip
    try:
        yield config.base_url
    finally:
        await runner.cleanup()


def _app(base: str, scopes: list[str] = SCOPES) -> Any:
    client_id, client_secret = mastodon.Mastodon.create_app(
        "sign-up", api_base_url=base, scopes=scopes
    )
    return mastodon.Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)


def _sign_up(base: str) -> tuple[Any, str]:
    api = _app(base)
    token = api.create_account(
        "newbie", PASSWORD, "newbie@example.org", agreement=True, reason="I read a lot",
        locale="fa",
    )  # fmt: skip
    assert token and api.access_token == token
    with pytest.raises(mastodon.MastodonAPIError, match="confirmed e-mail"):
        api.account_verify_credentials()
    _, problems = _app(base).create_account(
        "newbie", "short", "x", agreement=False, return_detailed_error=True
    )
    assert problems["details"]["username"][0]["error"] == "ERR_TAKEN"
    assert problems["details"]["password"][0]["error"] == "ERR_TOO_SHORT"
    assert problems["details"]["agreement"][0]["error"] == "ERR_ACCEPTED"
    # Names people take for the staff's are not for anyone signing up (Mastodon's defaults).
    for reserved in ("admin", "Moderator", "webmaster", "support"):
        taken, problems = _app(base).create_account(
            reserved, PASSWORD, f"{reserved}@example.org", agreement=True,
            return_detailed_error=True,
        )  # fmt: skip
        assert taken is None and problems["details"]["username"][0]["error"] == "ERR_RESERVED"
    return api, token


def _confirm_and_approve(base: str, api: Any, link: str) -> None:
    with urllib.request.urlopen(link) as page:
        assert page.status == 200
    with pytest.raises(mastodon.MastodonAPIError, match="pending approval"):
        api.account_verify_credentials()
    admin = _app(base, [*SCOPES, "admin:read", "admin:write"])
    admin.log_in("root", PASSWORD, scopes=[*SCOPES, "admin:read", "admin:write"], allow_http=True)
    [pending] = admin.admin_accounts_v2(status="pending")
    assert pending["username"] == "newbie" and pending["invite_request"] == "I read a lot"
    admin.admin_account_approve(pending["id"])
    assert api.account_verify_credentials()["username"] == "newbie"
    again = _app(base)
    again.log_in("newbie@example.org", PASSWORD, scopes=SCOPES, allow_http=True)
    assert again.account_verify_credentials()["username"] == "newbie"


async def test_create_account_confirm_approve_log_in(instance: str, mailbox: Mailbox) -> None:
    api, _ = await asyncio.to_thread(_sign_up, instance)
    [mail] = await mailbox.wait(1)
    # Signed up in Persian: the mails come in Persian, with a right-to-left HTML part.
    assert mail["Content-Language"] == "fa" and "تأیید" in mail["Subject"]
    html = mail.get_body(("html",))
    assert html is not None and 'dir="rtl"' in html.get_content()
    await asyncio.to_thread(_confirm_and_approve, instance, api, link_in(mail))
    notice = (await mailbox.wait(2))[1]
    assert notice["Content-Language"] == "fa" and "پذیرفته شد" in notice["Subject"]
