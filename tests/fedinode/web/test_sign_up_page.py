"""Signing up in a browser at /auth/sign_up, on a running app on each backend: the form
under each ``[instance] registrations`` mode, its per-field errors (the API's checks), its
CSRF token, the mail that follows, the links to it, and the page in Persian."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from admin_browser import Browser
from api_helpers import Api
from mail_rig import Mailbox, body_of, link_in

from fedinode.config import InstanceRule

Site = Callable[..., Awaitable[Api]]
GOOD = "a good password"


def fields(name: str = "newbie", **extra: str) -> dict[str, str]:
    return {"username": name, "email": f"{name}@example.org", "password": GOOD,
            "password_confirmation": GOOD, "agreement": "true", **extra}  # fmt: skip


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def test_open_sign_up_mails_a_link_and_then_the_user_logs_in(
    join_site: Site, mailbox: Mailbox
) -> None:
    rules = (InstanceRule(text="Be kind", hint="no insults"),)
    api = await join_site("open", rules=rules)
    browser = Browser(api.client)
    page = await browser.get("/auth/sign_up")
    assert "<form method='post' action='/auth/sign_up'>" in page
    assert "Be kind" in page and "no insults" in page  # the rules to agree to
    assert "name='password_confirmation'" in page and "name='reason'" not in page

    done, _ = await browser.post("/auth/sign_up", fields(), expect=200)
    assert "Your account @newbie is created." in done
    assert "We sent a link to newbie@example.org:" in done
    [mail] = await mailbox.wait(1)
    assert mail["To"] == "newbie@example.org" and "confirm" in body_of(mail)
    user = await api.store.users.by_username("newbie")
    assert user is not None and user.approved and not user.confirmed and user.locale == "en"

    # Not before the address is confirmed; then the login works.
    refused, _ = await browser.post("/auth/sign_in", {"login": "newbie", "password": GOOD},
                                    expect=422)  # fmt: skip
    assert "confirmed e-mail address" in refused
    confirmed = await browser.get(path_of(link_in(mail)))
    assert "Thank you: your e-mail address is confirmed." in confirmed
    await browser.log_in("newbie", GOOD)
    # A logged-in visitor is not offered another account.
    resp = await api.client.get("/auth/sign_up", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/settings"


async def test_approval_asks_why_and_says_an_admin_decides(join_site: Site) -> None:
    api = await join_site("approval", mail=False)
    browser = Browser(api.client)
    page = await browser.get("/auth/sign_up")
    assert "reviewed by an administrator" in page and "name='reason'" in page
    done, _ = await browser.post("/auth/sign_up", fields(reason="I write poems"), expect=200)
    assert "An administrator must approve your account before you can log in." in done
    assert "We sent a link" not in done  # no mail server: nothing to confirm
    assert "You will get an e-mail" not in done
    user = await api.store.users.by_username("newbie")
    assert user is not None and not user.approved and user.reason == "I write poems"


async def test_errors_are_shown_beside_the_fields_and_the_input_is_kept(join_site: Site) -> None:
    api = await join_site("approval", mail=False)
    await api.user("taken")
    browser = Browser(api.client)
    await browser.get("/auth/sign_up")
    page, _ = await browser.post("/auth/sign_up", {
        "username": "taken", "email": "not an address", "password": "tiny7",
        "password_confirmation": "tiny8", "reason": "<b>hi</b>"}, expect=422)  # fmt: skip
    assert "Please fix the problems marked below." in page
    for words in (
        "Username is taken",
        "E-mail address is invalid",
        "Password is too short (minimum is 8 characters)",
        "Password confirmation doesn&#39;t match the password",
        "Agreement to the rules must be accepted",
    ):
        assert words in page, words
    assert "aria-describedby='username-error'" in page
    assert "value='taken'" in page and "value='not an address'" in page
    assert "&lt;b&gt;hi&lt;/b&gt;</textarea>" in page  # kept, escaped
    assert "tiny7" not in page and "tiny8" not in page  # passwords are not echoed
    assert await api.store.users.by_username("taken") is not None

    page, _ = await browser.post("/auth/sign_up", {
        "username": "no spaces", "email": "x@example.org", "password": GOOD,
        "password_confirmation": GOOD, "agreement": "true"}, expect=422)  # fmt: skip
    assert "Username must contain only letters, numbers and underscores" in page
    assert "name='agreement' value='true' checked" in page
    page, _ = await browser.post("/auth/sign_up", fields("admin"), expect=422)
    assert "Username is reserved" in page
    assert await api.store.users.by_email("x@example.org") is None


async def test_a_form_without_its_csrf_token_is_refused(join_site: Site) -> None:
    api = await join_site("open", mail=False)
    browser = Browser(api.client)
    await browser.get("/auth/sign_up")
    page, _ = await browser.post("/auth/sign_up", fields(), csrf=False, expect=403)
    assert "The form expired; reload the page and try again." in page
    page, _ = await browser.post("/auth/sign_up", {**fields(), "csrf_token": "forged"},
                                 csrf=False, expect=403)  # fmt: skip
    assert await api.store.users.by_username("newbie") is None


async def test_closed_registrations_refuse_and_nothing_links_to_the_form(
    join_site: Site,
) -> None:
    api = await join_site("closed", mail=False, contact_email="boss@example.org")
    browser = Browser(api.client)
    page = await browser.get("/auth/sign_up")
    assert "Registrations are closed." in page and "<form" not in page
    assert "mailto:boss@example.org" in page
    page, _ = await browser.post("/auth/sign_up", fields(), expect=403)
    assert "Registrations are closed." in page
    assert await api.store.users.by_username("newbie") is None
    assert "/auth/sign_up" not in await browser.get("/auth/sign_in")
    assert "/auth/sign_up" not in await browser.get("/")

    opened = await join_site("open", mail=False)
    other = Browser(opened.client)
    assert "href='/auth/sign_up'" in await other.get("/auth/sign_in")
    assert 'href="/auth/sign_up"' in await other.get("/")


async def test_invite_mode_takes_the_form_only_with_a_usable_invite(join_site: Site) -> None:
    api = await join_site("invite", mail=False)
    root = await api.user("root", admin=True, scopes="read write admin:read admin:write")
    invite = await root.json("post", "/api/v1/admin/invites", json={"max_uses": 1})
    browser = Browser(api.client)
    page = await browser.get("/auth/sign_up")
    assert "Registrations are by invitation" in page and "<form" not in page
    assert "href='/auth/sign_up'" not in await browser.get("/auth/sign_in")
    page = await browser.get(f"/auth/sign_up?invite={invite['code']}")
    assert f"name='invite' value='{invite['code']}'" in page
    await browser.post("/auth/sign_up", fields(), expect=403)  # no invite: refused
    done, _ = await browser.post("/auth/sign_up", fields(invite=invite["code"]), expect=200)
    assert "You can log in now." in done  # an invite needs no approval; no mail to confirm
    await browser.log_in("newbie", GOOD)
    api.client.session.cookie_jar.clear()
    used = Browser(api.client)
    page = await used.get(f"/auth/sign_up?invite={invite['code']}")
    assert "This invite is used up, expired or revoked." in page and "<form" not in page


async def test_the_page_in_persian_right_to_left_and_the_account_speaks_it(
    join_site: Site, mailbox: Mailbox
) -> None:
    api = await join_site("approval")
    browser = Browser(api.client, language="fa-IR,fa;q=0.9,en;q=0.5")
    page = await browser.get("/auth/sign_up")
    assert "<html lang='fa' dir='rtl'>" in page
    for words in ("نام کاربری", "نشانی رایانامه", "گذرواژه", "نام‌نویسی"):
        assert words in page, words
    bad, _ = await browser.post("/auth/sign_up", fields(password="short", agreement=""),
                                expect=422)  # fmt: skip
    text = html.unescape(bad)
    assert "گذرواژه خیلی کوتاه است (دست‌کم ۸ نویسه)" in text
    assert "پذیرفتن قوانین لازم است" in text
    done, _ = await browser.post("/auth/sign_up", fields(), expect=200)
    assert "ساخته شد" in done
    user = await api.store.users.by_username("newbie")
    assert user is not None and user.locale == "fa"
    [mail] = await mailbox.wait(1)
    assert mail["Content-Language"] == "fa"


async def test_the_invite_page_says_its_problems_in_the_pages_language(join_site: Site) -> None:
    api = await join_site("invite", mail=False)
    root = await api.user("root", admin=True, scopes="read write admin:read admin:write")
    invite = await root.json("post", "/api/v1/admin/invites", json={})
    await api.user("taken")
    fa = {"Accept-Language": "fa"}
    resp = await api.client.post(f"/invite/{invite['code']}", headers=fa, data={
        "username": "taken", "email": "x@example.org", "password": GOOD})  # fmt: skip
    text = html.unescape(await resp.text())
    assert resp.status == 422
    assert "نام کاربری پیش‌تر گرفته شده است" in text and "پذیرفتن قوانین لازم است" in text


async def test_hostile_forms_get_an_answer_not_an_error_and_make_no_account(
    join_site: Site,
) -> None:
    api = await join_site("open", mail=False)
    browser = Browser(api.client)
    await browser.get("/auth/sign_up")
    long = "a" * 10_000
    for data in (
        {},  # nothing but the CSRF token
        fields(long),  # a name far past any limit
        {**fields("nul"), "username": "nu\x00l"},
        {**fields("nul"), "email": "nul\x00@example.org", "password": "a good\x00password"},
        {**fields("nul"), "reason": "why\x00not", "password_confirmation": "x\x00"},
        {**fields("mail"), "email": f"{long}@example.org"},
        [*fields("twice").items(), ("username", "other")],  # a field given twice
        {**fields("invited"), "invite": "no-such-code"},
        {**fields("lang"), "locale": "../../etc/passwd"},
    ):
        pairs = list(data.items()) if isinstance(data, dict) else data
        resp = await api.client.post(
            "/auth/sign_up",
            data=[*pairs, ("csrf_token", browser.token)],
            headers=browser._headers(),
            allow_redirects=False,
        )
        assert resp.status < 500, (data, resp.status, (await resp.text())[:500])
    # A body that is not a form at all.
    resp = await api.client.post(
        "/auth/sign_up",
        data=b"\xff\xfe{not a form",
        headers={**browser._headers(), "Content-Type": "application/json"},
    )
    assert 400 <= resp.status < 500
    # What no check lets through makes no account (an unknown invite code or locale in open
    # mode may: the form names neither).
    for name in ("nul", "mail", long):
        assert await api.store.users.by_username(name) is None, name[:30]


async def test_a_reason_with_a_nul_character_is_refused_not_a_server_error(
    join_site: Site,
) -> None:
    api = await join_site("approval", mail=False)
    browser = Browser(api.client)
    await browser.get("/auth/sign_up")
    page, _ = await browser.post("/auth/sign_up", fields(reason="why\x00not"), expect=400)
    assert "null bytes" in page
    assert await api.store.users.by_username("newbie") is None
