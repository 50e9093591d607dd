"""E-mail around sign-up, through a real SMTP server on loopback: the confirmation link,
its resend, the approval notice, and password reset by e-mail."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient
from api_helpers import Api
from mail_rig import Mailbox, body_of, free_port, link_in, smtp_server
from signup_helpers import app_token, form, me, password_login, sign_up

from fedinode.app import create_app
from fedinode.config import Config
from fedinode.mail import MAIL_SENDER

MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as box:
        yield box


@pytest.fixture
def make_api(aiohttp_client: Any, config: Config, mailbox: Mailbox) -> MakeApi:
    async def make(
        mode: str = "open", languages: tuple[str, ...] = ("en",), **email: Any
    ) -> Api:
        settings = {"host": mailbox.host, "port": mailbox.port, "from_address": "hi@local.test"}
        cfg = dataclasses.replace(
            config,
            instance=dataclasses.replace(
                config.instance, registrations=mode, title="Ketab", languages=languages
            ),
            email=dataclasses.replace(config.email, **{**settings, **email}),
        )
        client: TestClient[Any, Any] = await aiohttp_client(create_app(cfg))
        return Api(client=client, config=cfg)

    return make


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def test_confirmation_mail_link_confirms_and_then_the_token_works(
    make_api: MakeApi, mailbox: Mailbox
) -> None:
    api = await make_api("open")
    status, body = await sign_up(api, await app_token(api), form())
    assert status == 200, body
    token = body["access_token"]
    expected = {"error": "Your login is missing a confirmed e-mail address"}
    assert await me(api, token) == (403, expected)
    assert await password_login(api, "newbie", "a good password") == 400

    [mail] = await mailbox.wait(1)
    assert mail["To"] == "newbie@example.org"
    assert "hi@local.test" in mail["From"] and "Ketab" in mail["Subject"]
    link = link_in(mail)
    assert link.startswith(f"{api.config.base_url}/auth/confirm?token=")
    page = await api.client.get(path_of(link))
    assert page.status == 200 and "confirmed" in await page.text()
    assert (await api.client.get(path_of(link))).status == 404  # single use

    assert (await me(api, token))[0] == 200
    assert await password_login(api, "newbie", "a good password") == 200
    row = await api.store.users.by_username("newbie")
    assert row is not None and row.confirmed


async def test_resend_gives_a_new_link_and_the_old_one_stops(
    make_api: MakeApi, mailbox: Mailbox
) -> None:
    api = await make_api("open")
    _, body = await sign_up(api, await app_token(api), form())
    token = body["access_token"]
    await mailbox.wait(1)
    resp = await api.client.post(
        "/api/v1/emails/confirmations",
        data={"email": "fixed@example.org"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status == 200 and await resp.json() == {}
    first, second = await mailbox.wait(2)
    assert second["To"] == "fixed@example.org"
    assert (await api.client.get(path_of(link_in(first)))).status == 404
    assert (await api.client.get(path_of(link_in(second)))).status == 200
    assert (await me(api, token))[0] == 200
    again = await api.client.post(
        "/api/v1/emails/confirmations", headers={"Authorization": f"Bearer {token}"}
    )
    assert again.status == 403  # nothing left to confirm
    assert (await api.client.post("/api/v1/emails/confirmations")).status == 401


async def test_approval_sends_a_notice(make_api: MakeApi, mailbox: Mailbox) -> None:
    api = await make_api("approval")
    root = await api.user("root", admin=True, scopes="read write admin:read admin:write")
    _, body = await sign_up(api, await app_token(api), form(reason="hello"))
    [confirm] = await mailbox.wait(1)
    await api.client.get(path_of(link_in(confirm)))
    token = body["access_token"]
    assert await me(api, token) == (403, {"error": "Your login is currently pending approval"})
    [pending] = await root.json("get", "/api/v2/admin/accounts?status=pending")
    await root.json("post", f"/api/v1/admin/accounts/{pending['id']}/approve")
    notice = (await mailbox.wait(2))[1]
    # The sign-up asked for Persian: the notice is in Persian.
    assert notice["To"] == "newbie@example.org" and "پذیرفته شد" in notice["Subject"]
    assert notice["Content-Language"] == "fa" and "خوش آمدید" in body_of(notice)
    assert (await me(api, token))[0] == 200


async def test_password_reset_by_mail(make_api: MakeApi, mailbox: Mailbox) -> None:
    api = await make_api("open")
    alice = await api.user("alice")
    form_page = await api.client.get("/auth/password/reset")
    assert form_page.status == 200 and "<form" in await form_page.text()

    unknown = await api.client.post("/auth/password/reset", data={"email": "who@example.org"})
    known = await api.client.post("/auth/password/reset", data={"email": "alice@example.org"})
    assert unknown.status == known.status == 200
    assert await unknown.text() == await known.text()  # says nothing of who has an account
    [mail] = await mailbox.wait(1)
    assert mail["To"] == "alice@example.org" and "/auth/password/edit?token=" in body_of(mail)
    # alice chose no language: the instance's first one (English here), plain text only.
    assert mail["Content-Language"] == "en" and "reset your password" in mail["Subject"]
    assert mail.get_body(("html",)) is None
    link = path_of(link_in(mail))

    edit = await api.client.get(link)
    assert edit.status == 200 and "<form" in await edit.text()
    token = urlsplit(link).query.removeprefix("token=")
    short = await api.client.post("/auth/password/edit", data={"token": token, "password": "x"})
    assert short.status == 422  # the link still works after an unfit password
    done = await api.client.post(
        "/auth/password/edit", data={"token": token, "password": "a new passphrase"}
    )
    assert done.status == 200, await done.text()
    assert (await alice.get("/api/v1/accounts/verify_credentials")).status == 401  # signed out
    assert await password_login(api, "alice", "a new passphrase") == 200
    again = await api.client.post(
        "/auth/password/edit", data={"token": token, "password": "another passphrase"}
    )
    assert again.status == 404
    assert (await api.client.get(link)).status == 404
    assert (await api.client.get("/auth/password/edit?token=forged")).status == 404


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


async def test_a_persian_sign_up_gets_a_persian_confirmation(
    make_api: MakeApi, mailbox: Mailbox
) -> None:
    api = await make_api("open")
    status, body = await sign_up(api, await app_token(api), form(locale="fa"))
    assert status == 200, body
    [mail] = await mailbox.wait(1)
    assert mail["Content-Language"] == "fa"
    assert mail["Subject"] == "Ketab: نشانی رایانامه‌تان را تأیید کنید"
    text = body_of(mail)
    assert "برای تأیید، این پیوند را تا ۲۴ ساعت آینده باز کنید" in text
    assert "confirm it" not in text
    link = link_in(mail)  # the plain text part is kept, link and all
    page = html_of(mail)  # and a right-to-left HTML alternative
    assert '<html lang="fa" dir="rtl">' in page and '<body dir="rtl">' in page
    assert f'<a href="{link}" dir="ltr">' in page and "برای تأیید" in page
    assert (await api.client.get(path_of(link))).status == 200


async def test_an_english_sign_up_stays_english(make_api: MakeApi, mailbox: Mailbox) -> None:
    api = await make_api("open")
    status, body = await sign_up(api, await app_token(api), form(locale="en"))
    assert status == 200, body
    [mail] = await mailbox.wait(1)
    assert mail["Content-Language"] == "en"
    assert mail["Subject"] == "Ketab: confirm your e-mail address"
    assert "open this link within 24 hours" in body_of(mail)
    assert mail.get_body(("html",)) is None and not mail.is_multipart()


async def test_a_reset_mail_follows_the_account_then_the_instance_language(
    make_api: MakeApi, mailbox: Mailbox
) -> None:
    api = await make_api("open", languages=("fa", "en"))
    for name, locale in (("dara", "en"), ("shirin", ""), ("hans", "de")):
        await api.user(name)
        user = await api.store.users.by_username(name)
        assert user is not None
        await api.store.users.update(user.id, locale=locale)
        await api.client.post("/auth/password/reset", data={"email": f"{name}@example.org"})
    await mailbox.wait(3)
    [dara] = mailbox.to("dara@example.org")  # the account's language first
    [shirin] = mailbox.to("shirin@example.org")  # none: the instance's first language
    [hans] = mailbox.to("hans@example.org")  # no German catalogue: English
    assert dara["Content-Language"] == "en" and "reset your password" in dara["Subject"]
    assert shirin["Content-Language"] == "fa" and "بازنشانی گذرواژه" in shirin["Subject"]
    assert "/auth/password/edit?token=" in body_of(shirin) and 'dir="rtl"' in html_of(shirin)
    assert hans["Content-Language"] == "en" and "reset your password" in hans["Subject"]


@pytest.fixture
async def dead_port() -> AsyncIterator[int]:
    yield free_port()  # nothing listens there


async def test_a_failing_mail_server_does_not_fail_the_sign_up(
    make_api: MakeApi, dead_port: int
) -> None:
    api = await make_api("open", port=dead_port, max_attempts=2)
    status, body = await sign_up(api, await app_token(api), form())
    assert status == 200, body
    sender = api.client.app[MAIL_SENDER]
    await sender.send_due()
    for _ in range(200):  # the background pass may still be trying
        [row] = await api.store.db.fetch("SELECT * FROM mail_outbox")
        if row["last_error"]:
            break
        await asyncio.sleep(0.05)
    assert row["state"] == "queued" and row["attempts"] >= 1
    assert "127.0.0.1" in row["last_error"]

    # the server comes back: the retry delivers the mail
    with smtp_server(dead_port) as late:
        await api.store.db.execute("UPDATE mail_outbox SET next_attempt_at = 0")
        await sender.send_due()  # (or the background pass, if it comes first)
        [mail] = await late.wait(1)
        assert mail["To"] == "newbie@example.org" and "/auth/confirm?token=" in body_of(mail)
    for _ in range(100):
        if not await api.store.mail.by_state():
            break
        await asyncio.sleep(0.05)
    assert await api.store.mail.by_state() == {}  # a sent mail is not kept


async def test_without_a_mail_host_no_confirmation_is_needed(
    make_api: MakeApi, mailbox: Mailbox
) -> None:
    api = await make_api("open", host="")
    status, body = await sign_up(api, await app_token(api), form())
    assert status == 200 and (await me(api, body["access_token"]))[0] == 200
    resp = await api.client.post("/auth/password/reset", data={"email": "newbie@example.org"})
    assert resp.status == 200
    assert mailbox.received == []


async def test_mail_sending_requests_are_limited_per_address(
    aiohttp_client: Any, config: Config, mailbox: Mailbox
) -> None:
    limits = dataclasses.replace(config.rate_limits, sign_up="2/minute", exempt=())
    email = dataclasses.replace(config.email, host=mailbox.host, port=mailbox.port)
    cfg = dataclasses.replace(config, rate_limits=limits, email=email)
    client = await aiohttp_client(create_app(cfg))
    far = {"X-Forwarded-For": "203.0.113.77"}
    body = {"email": "nobody@example.org"}
    statuses = [
        (await client.post("/auth/password/reset", data=body, headers=far)).status for _ in range(2)
    ]
    assert statuses == [200, 200]
    assert (await client.post("/auth/password/reset", data=body, headers=far)).status == 429
    assert (await client.post("/api/v1/emails/confirmations", headers=far)).status == 429
    other = {"X-Forwarded-For": "203.0.113.78"}
    assert (await client.post("/auth/password/reset", data=body, headers=other)).status == 200
