"""The whole way in, as a Persian speaker takes it, with Mastodon.py and a real browser.

An instance that asks for e-mail confirmation and an admin's approval
(``registrations = "approval"``) is served on loopback (SQLite, then PostgreSQL) with a real
SMTP server on loopback (aiosmtpd). A visitor signs up in Persian through the API, as
Mastodon apps do (Mastodon.py ``create_account(locale="fa")``: fedinode's sign-up page is the
invite page, /invite/CODE, which approval mode does not use); the confirmation mail comes in
Persian and headless Chromium (``tests/interop/browser/confirm.mjs``) follows its link; an
admin approves through the admin API; the user logs in from an app (Mastodon.py's password
grant), changes the password on the settings page and resets it by e-mail in the browser
(``run.mjs``); three spellings of one Persian tag land on one tag timeline.

One keyword rule catching the three spellings is tested in tests/policy/test_keyword_variants.py
and filters in tests/fedinode/api/test_persian_text.py. Skips like test_browser_settings.py
without Chromium or playwright-core, unless FEDINODE_TEST_REQUIRE_INTEROP=1.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mastodon
import pytest
from federation.conftest import Instance, free_port
from mail_rig import body_of, link_in, smtp_server

from fedinode.config import Config, EmailConfig
from fedinode.services.passwords import verify_password
from interop.conftest import node_or_skip, run_node_script
from interop.test_browser_settings import chromium  # noqa: F401 (a fixture)

BROWSER_DIR = Path(__file__).parent / "browser"
NODE_TIMEOUT = 120.0
ADMIN_PASSWORD = "correct horse battery"  # what Instance.user sets
SIGN_UP = "کتاب‌خوان شب‌ها ۱۴۰۵"
CHANGED = "گذرواژهٔ دوم و بلند"
AFTER_RESET = "reset by mail 1405"
SCOPES = ["read", "write", "follow", "push"]
ADMIN_SCOPES = [*SCOPES, "admin:read", "admin:write"]


@dataclass
class ApprovalInstance(Instance):
    """Sign-ups wait for an admin; mail goes to the loopback SMTP server on ``mail_port``."""

    mail_port: int = 0

    @property
    def config(self) -> Config:
        base = Instance.config.fget(self)  # type: ignore[attr-defined]
        return dataclasses.replace(  # type: ignore[no-any-return]
            base,
            instance=dataclasses.replace(base.instance, registrations="approval"),
            email=EmailConfig(host="127.0.0.1", port=self.mail_port),
        )


async def run_script(node: str, script: str, args: dict[str, Any]) -> dict[str, Any]:
    return await run_node_script(node, BROWSER_DIR, script, args, NODE_TIMEOUT)


def app(base: str, scopes: list[str] = SCOPES) -> Any:
    client_id, client_secret = mastodon.Mastodon.create_app(
        "people chain", api_base_url=base, scopes=scopes
    )
    return mastodon.Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)


def sign_up(base: str) -> Any:
    api = app(base)
    api.create_account("dara", SIGN_UP, "dara@people.test", agreement=True,
                       reason="کتاب می‌خوانم", locale="fa")  # fmt: skip
    return api


def approve(base: str, api: Any) -> None:
    with pytest.raises(mastodon.MastodonAPIError, match="pending approval"):
        api.account_verify_credentials()
    admin = app(base, ADMIN_SCOPES)
    admin.log_in("root", ADMIN_PASSWORD, scopes=ADMIN_SCOPES, allow_http=True)
    [pending] = admin.admin_accounts_v2(status="pending")
    assert pending["username"] == "dara" and pending["invite_request"] == "کتاب می‌خوانم"
    admin.admin_account_approve(pending["id"])


def log_in(base: str, password: str) -> Any:
    api = app(base)
    api.log_in("dara@people.test", password, scopes=SCOPES, allow_http=True)
    assert api.account_verify_credentials()["username"] == "dara"
    return api


def tag_timeline(api: Any) -> list[str]:
    for text in ("#كتاب عربی", "#کتاب فارسی", "#كـتـاب کشیده"):
        api.status_post(text, visibility="public")
    return [status["id"] for status in api.timeline_hashtag("کتاب")]


async def test_sign_up_in_persian_confirm_approve_log_in_change_and_reset(
    chromium: str,  # noqa: F811
    database_url: str,
    tmp_path: Path,
) -> None:
    node = node_or_skip(BROWSER_DIR, "playwright-core")
    with smtp_server() as mailbox:
        instance = ApprovalInstance(
            "people", free_port(), database_url, tmp_path / "people", mail_port=mailbox.port
        )
        await instance.start()
        try:
            base = f"http://{instance.domain}"
            common = {"url": base, "chromium": chromium}
            await instance.user("root", admin=True)
            api = await asyncio.to_thread(sign_up, base)
            (confirmation,) = await mailbox.wait(1)
            confirmed = await run_script(
                node, "confirm.mjs", {**common, "link": link_in(confirmation)}
            )
            await asyncio.to_thread(approve, base, api)
            notice = (await mailbox.wait(2))[1]
            from_app = await asyncio.to_thread(log_in, base, SIGN_UP)
            changed = await run_script(node, "run.mjs", {**common, "scenario": "change",
                "login": "dara", "password": SIGN_UP, "new_password": CHANGED})  # fmt: skip
            asked = await run_script(node, "run.mjs", {**common, "scenario": "reset_request",
                "login": "dara", "email": "dara@people.test"})  # fmt: skip
            reset_mail = (await mailbox.wait(3))[2]
            reset = await run_script(node, "run.mjs", {**common, "scenario": "reset_finish",
                "login": "dara", "link": link_in(reset_mail),
                "new_password": AFTER_RESET})  # fmt: skip
            after = await asyncio.to_thread(log_in, base, AFTER_RESET)
            tagged = await asyncio.to_thread(tag_timeline, after)
            user = await instance.store.users.by_username("dara")
        finally:
            await instance.stop()

    # The mails came in Persian, each with a right-to-left HTML part.
    for mail in (confirmation, notice, reset_mail):
        assert mail["To"] == "dara@people.test" and mail["Content-Language"] == "fa"
        html = mail.get_body(("html",))
        assert html is not None and 'dir="rtl"' in html.get_content()
    assert "تأیید" in confirmation["Subject"] and "۲۴ ساعت" in body_of(confirmation)
    assert "پذیرفته شد" in notice["Subject"]
    assert "بازنشانی گذرواژه" in reset_mail["Subject"]

    page = confirmed["seen"]["page"]
    assert confirmed["seen"]["status"] == 200
    assert (page["lang"], page["dir"], page["direction"]) == ("fa", "rtl", "rtl")
    assert page["title"].startswith("نشانی رایانامه تأیید شد")
    assert "سپاس؛ نشانی رایانامهٔ شما تأیید شد." in page["text"]

    assert from_app is not None
    assert changed["steps"][-1] == "new_password_works"
    assert changed["seen"]["settings_page"]["dir"] == "rtl"
    assert asked["steps"] == ["reset_requested"]
    assert reset["steps"] == ["password_reset", "logged_in_after_reset"]
    assert user is not None and verify_password(AFTER_RESET, user.password_hash)
    assert not verify_password(CHANGED, user.password_hash)
    assert len(tagged) == 3  # three spellings, one tag timeline
