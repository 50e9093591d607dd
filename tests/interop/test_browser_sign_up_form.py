"""A real browser signs up on fedinode's own form (/auth/sign_up) and an admin approves
the account from the admin panel's queue.

An instance asking for e-mail confirmation and an admin's approval is served on loopback
(SQLite, then PostgreSQL) with a real SMTP server on loopback (aiosmtpd). Headless Chromium
(``tests/interop/browser/sign_up.mjs``), asking for Persian, follows the landing page's
link to the form, gets a mismatched password named beside its field with the rest kept,
signs up; then follows the mailed confirmation link, an admin approves it from the panel
(menu, queue, Approve), the approval mail goes out and the new user logs in.
Skips like test_browser_settings.py without Chromium or playwright-core, unless
FEDINODE_TEST_REQUIRE_INTEROP=1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from federation.conftest import free_port
from mail_rig import link_in, smtp_server

from interop.conftest import node_or_skip, run_node_script
from interop.test_browser_people_chain import ApprovalInstance
from interop.test_browser_settings import chromium  # noqa: F401 (a fixture)

BROWSER_DIR = Path(__file__).parent / "browser"
NODE_TIMEOUT = 120.0
ADMIN_PASSWORD = "correct horse battery"  # what Instance.user sets
PASSWORD = "گذرواژهٔ نام‌نویسی ۱۴۰۵"
REASON = "شعر می‌خوانم"


async def run_script(node: str, args: dict[str, Any]) -> dict[str, Any]:
    return await run_node_script(node, BROWSER_DIR, "sign_up.mjs", args, NODE_TIMEOUT)


async def test_browser_signs_up_on_the_form_and_an_admin_approves_it_in_the_panel(
    chromium: str,  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    node = node_or_skip(BROWSER_DIR, "playwright-core")
    with smtp_server() as mailbox:
        instance = ApprovalInstance(
            "joining", free_port(), database_url, tmp_path / "joining", mail_port=mailbox.port
        )
        await instance.start()
        try:
            common = {"url": f"http://{instance.domain}", "chromium": chromium,
                      "login": "nika", "password": PASSWORD}  # fmt: skip
            await instance.user("root", admin=True)
            signed_up = await run_script(node, {**common, "scenario": "sign_up",
                "email": "nika@join.test", "reason": REASON})  # fmt: skip
            (confirmation,) = await mailbox.wait(1)
            pending = await instance.store.users.by_username("nika")
            approved = await run_script(node, {**common, "scenario": "approve",
                "link": link_in(confirmation), "admin": "root",
                "admin_password": ADMIN_PASSWORD})  # fmt: skip
            notice = (await mailbox.wait(2))[1]
            user = await instance.store.users.by_username("nika")
        finally:
            await instance.stop()

    seen = signed_up["seen"]
    assert seen["form_url"] == "/auth/sign_up"
    assert (seen["form_page"]["lang"], seen["form_page"]["dir"]) == ("fa", "rtl")
    assert seen["form_page"]["direction"] == "rtl"
    assert seen["mismatch"] == "تکرار گذرواژه با گذرواژه یکی نیست"
    assert seen["kept"] == {"username": "nika", "reason": REASON, "password": "",
                            "agreement": True}  # fmt: skip
    assert "ساخته شد" in seen["done"] and "nika@join.test" in seen["done"]
    assert "یک مدیر باید حساب شما را بپذیرد" in seen["done"]
    assert pending is not None and not pending.approved and pending.locale == "fa"
    assert pending.reason == REASON

    seen = approved["seen"]
    assert "تأیید" in seen["confirmed"]
    assert seen["overview_waiting"] == "1 sign-up waits for approval"
    assert "@nika" in seen["queue_row"] and "nika@join.test" in seen["queue_row"]
    assert REASON in seen["queue_row"] and "not confirmed" not in seen["queue_row"]
    assert seen["notice"] == "@nika is approved and can log in."
    assert "No sign-up waits for approval." in seen["queue_after"]
    assert seen["after_login_url"] == "/settings"
    assert notice["To"] == "nika@join.test" and notice["Content-Language"] == "fa"
    assert user is not None and user.approved and user.confirmed
