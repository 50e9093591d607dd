"""A real browser on fedinode's pages: headless Chromium driven by playwright-core.

An instance is served on loopback (SQLite, then PostgreSQL) with one user and a real SMTP
server on loopback (aiosmtpd); ``node tests/interop/browser/run.mjs`` opens the login page
asking for Persian (``Accept-Language: fa``), checks it is right to left, logs in, changes
the password on the settings page, logs out, and finds the old password refused and the
new one working; then it asks for a reset link, and opens the link caught by the SMTP
server to set another password and log in with it.
Chromium is the system's (``FEDINODE_TEST_CHROMIUM`` or ``chromium`` on PATH; Debian's
``chromium`` package); playwright-core comes from ``npm ci`` in tests/interop/browser.
Without either the test skips, unless FEDINODE_TEST_REQUIRE_INTEROP=1 (CI) makes that a
failure.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from federation.conftest import Instance, free_port
from mail_rig import link_in, smtp_server

from fedinode.config import Config, EmailConfig
from fedinode.services.passwords import verify_password
from interop.conftest import node_or_skip, run_node_script

BROWSER_DIR = Path(__file__).parent / "browser"
NODE_TIMEOUT = 120.0
OLD = "correct horse battery"  # what Instance.user sets
NEW = "گذرواژهٔ تازه و بلند"  # a Persian password, typed by the browser
AFTER_RESET = "reset by mail 1405"


@dataclass
class MailingInstance(Instance):
    """An instance that sends its mail to the loopback SMTP server on ``mail_port``."""

    mail_port: int = 0

    @property
    def config(self) -> Config:
        base = Instance.config.fget(self)  # type: ignore[attr-defined]
        email = EmailConfig(host="127.0.0.1", port=self.mail_port)
        return dataclasses.replace(base, email=email)  # type: ignore[no-any-return]


@pytest.fixture
def chromium() -> str:
    found = os.environ.get("FEDINODE_TEST_CHROMIUM") or shutil.which("chromium")
    if not found:
        problem = "no chromium (apt-get install chromium, or set FEDINODE_TEST_CHROMIUM)"
        if os.environ.get("FEDINODE_TEST_REQUIRE_INTEROP") == "1":
            pytest.fail(f"browser test cannot run: {problem}", pytrace=False)
        pytest.skip(problem)
    return found


async def run_browser(node: str, args: dict[str, Any]) -> dict[str, Any]:
    return await run_node_script(node, BROWSER_DIR, "run.mjs", args, NODE_TIMEOUT)


async def test_browser_logs_in_in_persian_and_changes_the_password(
    chromium: str, database_url: str, tmp_path: Path
) -> None:
    node = node_or_skip(BROWSER_DIR, "playwright-core")
    with smtp_server() as mailbox:
        instance = MailingInstance(
            "browser", free_port(), database_url, tmp_path / "browser", mail_port=mailbox.port
        )
        await instance.start()
        try:
            account = await instance.user("sara")
            common = {"url": f"http://{instance.domain}", "chromium": chromium, "login": "sara"}
            report = await run_browser(
                node, {**common, "scenario": "change", "password": OLD, "new_password": NEW}
            )
            asked = await run_browser(
                node, {**common, "scenario": "reset_request", "email": "sara@browser.test"}
            )
            (mail,) = await mailbox.wait(1)
            assert mail["To"] == "sara@browser.test"
            finish = {"scenario": "reset_finish", "link": link_in(mail), "new_password": AFTER_RESET}
            reset = await run_browser(node, {**common, **finish})
            user = await instance.store.users.by_account(account.id)
        finally:
            await instance.stop()
    assert report["steps"] == [
        "login_page",
        "logged_in",
        "password_changed",
        "logged_out",
        "old_password_refused",
        "new_password_works",
    ]
    seen = report["seen"]
    login_page = seen["login_page"]
    assert (login_page["lang"], login_page["dir"], login_page["direction"]) == ("fa", "rtl", "rtl")
    assert login_page["title"] == "ورود" and seen["login_label"] == "رایانامه یا نام کاربری"
    assert seen["after_login_url"] == "/settings"
    assert seen["settings_page"]["dir"] == "rtl" and seen["settings_page"]["heading"] == "تنظیمات حساب"
    assert seen["notice"].startswith("گذرواژهٔ شما تغییر کرد")
    assert seen["after_logout_url"] == "/auth/sign_in"
    assert seen["old_password_error"] == "رایانامه، نام کاربری یا گذرواژه نادرست است."
    assert seen["new_password_url"] == "/settings"
    assert asked["steps"] == ["reset_requested"]
    assert asked["seen"]["reset_page"]["dir"] == "rtl"
    assert asked["seen"]["reset_sent"].startswith("اگر حسابی با این نشانی باشد")
    assert reset["steps"] == ["password_reset", "logged_in_after_reset"]
    assert reset["seen"]["reset_done"].startswith("گذرواژهٔ شما تغییر کرد")
    assert reset["seen"]["after_reset_login_url"] == "/settings"
    assert user is not None and verify_password(AFTER_RESET, user.password_hash)
    assert not verify_password(NEW, user.password_hash)
