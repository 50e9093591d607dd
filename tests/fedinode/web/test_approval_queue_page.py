"""The admin panel's approval queue (/admin/accounts/pending), on a running app on each
backend: a sign-up from the web form waits there, an admin approves it (the user gets the
approval mail and can log in) or rejects it (it is gone), only admins act, with the
form's CSRF token, and the page in Persian."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from admin_browser import Browser
from api_helpers import Api
from mail_rig import Mailbox, body_of, link_in

Site = Callable[..., Awaitable[Api]]
GOOD = "a good password"
QUEUE = "/admin/accounts/pending"


def fields(name: str, **extra: str) -> dict[str, str]:
    return {"username": name, "email": f"{name}@example.org", "password": GOOD,
            "password_confirmation": GOOD, "agreement": "true", **extra}  # fmt: skip


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def fresh_browser(api: Api, language: str = "en") -> Browser:
    """Another person at the same server: no cookies of the one before."""
    api.client.session.cookie_jar.clear()
    return Browser(api.client, language=language)


async def sign_up(api: Api, name: str, **extra: str) -> int:
    """Sign ``name`` up through the web form; the new account's id."""
    visitor = fresh_browser(api)
    await visitor.get("/auth/sign_up")
    await visitor.post("/auth/sign_up", fields(name, **extra), expect=200)
    user = await api.store.users.by_username(name)
    assert user is not None and not user.approved
    return user.account_id


async def admin_browser(api: Api, language: str = "en") -> Browser:
    if await api.store.users.by_username("root") is None:
        await api.user("root", admin=True)
    browser = fresh_browser(api, language)
    await browser.log_in("root")
    return browser


async def test_a_web_sign_up_is_approved_from_the_panel_and_then_logs_in(
    join_site: Site, mailbox: Mailbox
) -> None:
    api = await join_site("approval")
    account_id = await sign_up(api, "newbie", reason="I write poems")
    [confirm] = await mailbox.wait(1)
    visitor = fresh_browser(api)
    await visitor.get(path_of(link_in(confirm)))
    refused, _ = await visitor.post("/auth/sign_in", {"login": "newbie", "password": GOOD},
                                    expect=422)  # fmt: skip
    assert "pending approval" in refused

    admin = await admin_browser(api)
    overview = await admin.get("/admin")
    assert f'href="{QUEUE}"' in overview and "1 sign-up waits for approval" in overview
    queue = await admin.get(QUEUE)
    assert "@newbie" in queue and "newbie@example.org" in queue and "I write poems" in queue
    assert "confirmed" in queue and "not confirmed yet" not in queue
    assert re.search(r"\d{4}.*UTC", queue)  # the sign-up date, as the other admin pages show dates

    _, location = await admin.post(f"/admin/accounts/{account_id}/approve", {})
    assert location.startswith(QUEUE + "?done=account_approved")
    after = await admin.get(location)
    assert "@newbie is approved and can log in." in after
    assert "No sign-up waits for approval." in after

    notice = (await mailbox.wait(2))[1]
    assert notice["To"] == "newbie@example.org" and "approved" in notice["Subject"]
    assert "you can log in now" in body_of(notice)
    await fresh_browser(api).log_in("newbie", GOOD)


async def test_rejecting_removes_the_sign_up(join_site: Site) -> None:
    api = await join_site("approval", mail=False)
    keep = await sign_up(api, "keeper")
    drop = await sign_up(api, "spammer", reason="buy things")
    admin = await admin_browser(api)
    queue = await admin.get(QUEUE)
    assert "not confirmed yet" not in queue  # no mail server: nothing to confirm
    assert "@keeper" in queue and "@spammer" in queue
    _, location = await admin.post(f"/admin/accounts/{drop}/reject", {})
    after = await admin.get(location)
    assert "The sign-up of @spammer is rejected and removed." in after
    assert f"/admin/accounts/{drop}/" not in after and "buy things" not in after
    assert f"/admin/accounts/{keep}/approve" in after
    assert await api.store.users.by_username("spammer") is None
    refused, _ = await fresh_browser(api).post(
        "/auth/sign_in", {"login": "spammer", "password": GOOD}, expect=422
    )
    assert "Invalid email/username or password." in refused
    # Gone: rejecting it again finds nothing; an approved account is no longer pending.
    admin = await admin_browser(api)
    await admin.post(f"/admin/accounts/{drop}/reject", {}, expect=404)
    await admin.post(f"/admin/accounts/{keep}/approve", {})
    page, _ = await admin.post(f"/admin/accounts/{keep}/approve", {}, expect=409)
    assert "This account is not pending approval." in page
    page, _ = await admin.post(f"/admin/accounts/{keep}/reject", {}, expect=409)
    keeper = await api.store.users.by_username("keeper")
    assert keeper is not None and keeper.approved


async def test_only_admins_act_and_only_with_the_forms_token(join_site: Site) -> None:
    api = await join_site("approval", mail=False)
    waiting = await sign_up(api, "waiting")
    resp = await api.client.get(QUEUE, allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/auth/sign_in")
    resp = await api.client.post(f"/admin/accounts/{waiting}/approve", allow_redirects=False)
    assert resp.status == 302

    await api.user("alice")
    alice = fresh_browser(api)
    await alice.log_in("alice")
    await alice.get(QUEUE, expect=403)
    await alice.post(f"/admin/accounts/{waiting}/approve", {}, expect=403)

    admin = await admin_browser(api)
    await admin.get(QUEUE)
    await admin.post(f"/admin/accounts/{waiting}/approve", {}, csrf=False, expect=403)
    await admin.post(f"/admin/accounts/{waiting}/reject", {}, csrf=False, expect=403)
    user = await api.store.users.by_username("waiting")
    assert user is not None and not user.approved


async def test_the_queue_in_persian(join_site: Site) -> None:
    api = await join_site("approval", mail=False)
    await sign_up(api, "sara", reason="شعر می‌نویسم")
    admin = await admin_browser(api, language="fa")
    queue = await admin.get(QUEUE)
    assert '<html lang="fa" dir="rtl">' in queue
    assert "نام‌نویسی‌های در انتظار پذیرش" in queue and "پذیرفتن" in queue and "رد کردن" in queue
    assert "شعر می‌نویسم" in queue and "@sara" in queue
    assert re.search("[۰-۹]{4}", queue)  # the date in the Solar Hijri calendar, Persian digits
    overview = await admin.get("/admin")
    assert "۱ نام‌نویسی در انتظار پذیرش است" in overview
