"""The about page (/ and /about) and the login page show the instance's rules with their
hints; the about page lists the moderated servers with their public comments, to whom
[instance] show_domain_blocks and show_domain_blocks_rationale say, as Mastodon's does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from admin_browser import Browser
from api_helpers import Api

from fedinode.config import InstanceRule
from policy.pipeline import obfuscate_domain

Site = Callable[..., Awaitable[Api]]
HTTP = {"scheme": "http"}
BLOCKS = "/api/v1/admin/domain_blocks"
RULES = (
    InstanceRule("Be kind to each other", "No harassment, no slurs."),
    InstanceRule("No advertising"),
)


async def _blocks(api: Api) -> None:
    root = await api.user("root", admin=True, scopes="admin:read admin:write")
    for body in (
        {"domain": "spam.test", "severity": "suspend", "public_comment": "Spam, only spam",
         "private_comment": "do not show"},
        {"domain": "loud.test", "severity": "silence"},
        {"domain": "secret.test", "severity": "suspend", "obfuscate": True,
         "public_comment": "hidden name"},
        {"domain": "quiet.test", "severity": "noop"},  # limits nothing: not listed
    ):
        await root.json("post", BLOCKS, json=body)


async def test_rules_and_their_hints_on_the_about_and_login_pages(site: Site) -> None:
    api = await site(rules=RULES, title="Riverside", federation=HTTP)
    browser = Browser(api.client)
    for path in ("/", "/about"):
        html = await browser.get(path)
        assert "Be kind to each other" in html and "No harassment, no slurs." in html
        assert "No advertising" in html
        assert "InstanceRule(" not in html
    login = await browser.get("/auth/sign_in")
    assert "Be kind to each other" in login and "No harassment, no slurs." in login
    assert "By logging in you agree to follow the rules of Riverside." in login
    # in Persian, the page's own words; the rules stay as the admin wrote them
    browser.language = "fa"
    login = await browser.get("/auth/sign_in")
    assert "قوانین" in login and '<html lang=\'fa\' dir=\'rtl\'>' in login
    assert "Be kind to each other" in login


async def test_moderated_servers_with_their_public_comments(site: Site) -> None:
    api = await site(federation=HTTP)
    await _blocks(api)
    html = await Browser(api.client).get("/about")
    assert "Moderated servers" in html
    assert "spam.test" in html and "Spam, only spam" in html and "Suspended" in html
    assert "loud.test" in html and "Limited" in html
    assert "secret.test" not in html and obfuscate_domain("secret.test") in html
    assert "hidden name" in html
    assert "quiet.test" not in html
    assert "do not show" not in html
    persian = await Browser(api.client, language="fa").get("/")
    assert "کارسازهای مدیریت‌شده" in persian and "Spam, only spam" in persian


async def test_no_moderated_server_says_so(site: Site) -> None:
    api = await site(federation=HTTP)
    assert "This server limits no other server." in await Browser(api.client).get("/")


async def test_show_domain_blocks_decides_who_sees_the_list(site: Site) -> None:
    hidden = await site(federation=HTTP, show_domain_blocks="disabled")
    await _blocks(hidden)
    html = await Browser(hidden.client).get("/")
    assert "Moderated servers" not in html and "spam.test" not in html


async def test_signed_in_users_see_what_users_may_see(site: Site) -> None:
    api = await site(
        federation=HTTP, show_domain_blocks="users", show_domain_blocks_rationale="users"
    )
    await _blocks(api)
    await api.user("alice")
    browser = Browser(api.client)
    anonymous = await browser.get("/")
    assert "Moderated servers" not in anonymous and "spam.test" not in anonymous
    await browser.log_in("alice")
    signed_in = await browser.get("/")
    assert "spam.test" in signed_in and "Spam, only spam" in signed_in


async def test_comments_only_for_users(site: Site) -> None:
    api = await site(federation=HTTP, show_domain_blocks_rationale="users")
    await _blocks(api)
    html = await Browser(api.client).get("/")
    assert "spam.test" in html and "Spam, only spam" not in html
