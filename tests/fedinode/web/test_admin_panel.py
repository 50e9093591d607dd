"""The admin panel under /admin, on a running app on each backend: who may see it, every
page in Persian and English, CSRF-safe forms, and each action reaching the same services
as the admin API (domain blocks with the suspend preview, allows, the policy log with its
explanations, subscriptions and drafts, reports)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from admin_browser import Browser
from api_helpers import Actor, Api

from fedinode.app import create_app
from fedinode.config import Config, load_config
from storage.accounts import NewAccount
from storage.paging import Page

Site = Callable[..., Awaitable[Api]]
ADMIN = "/api/v1/admin"
# The app is served over plain http here: its cookies must not be marked Secure.
HTTP = {"scheme": "http"}
PAGES = (
    "/admin",
    "/admin/domain_blocks",
    "/admin/domain_blocks/new",
    "/admin/domain_allows",
    "/admin/subscriptions",
    "/admin/quarantine",
    "/admin/quarantine?state=all",
    "/admin/policy_log",
    "/admin/policy_log/explain",
    "/admin/reports",
    "/admin/reports?resolved=true",
)


async def _admin(api: Api, language: str = "en") -> tuple[Browser, Actor]:
    root = await api.user("root", admin=True, scopes="read write admin:read admin:write")
    browser = Browser(api.client, language=language)
    await browser.log_in("root")
    return browser, root


async def _remote(api: Api, username: str, domain: str) -> Any:
    return await api.store.accounts.create(
        NewAccount(
            username=username,
            domain=domain,
            uri=f"https://{domain}/users/{username}",
            inbox_url=f"https://{domain}/users/{username}/inbox",
        )
    )


async def test_anonymous_visitors_are_sent_to_log_in_and_come_back(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("root", admin=True)
    browser = Browser(api.client)
    for path in ("/admin", "/admin/domain_blocks", "/admin/policy_log?peer=x.test"):
        resp = await api.client.get(path, allow_redirects=False)
        assert resp.status == 302
        location = urlsplit(resp.headers["Location"])
        assert location.path == "/auth/sign_in"
        assert parse_qs(location.query) == {"next": [path]}
    # a form posted without a session changes nothing and leads to the login page
    resp = await api.client.post("/admin/domain_blocks", data={"domain": "x.test"},
                                 allow_redirects=False)  # fmt: skip
    assert resp.status == 302 and resp.headers["Location"].startswith("/auth/sign_in")
    # logging in with ?next= comes back to the page asked for
    await browser.get("/auth/sign_in?next=%2Fadmin%2Fpolicy_log")
    _, location = await browser.post(
        "/auth/sign_in",
        {"login": "root@example.org", "password": "correct horse battery",
         "next": "/admin/policy_log"},
    )  # fmt: skip
    assert location == "/admin/policy_log"
    assert "Policy log" in await browser.get(location)


async def test_log_in_refuses_a_wrong_password_and_foreign_next(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("root", admin=True)
    browser = Browser(api.client)
    await browser.get("/auth/sign_in")
    html, _ = await browser.post(
        "/auth/sign_in", {"login": "root", "password": "wrong"}, expect=422
    )
    assert "Invalid email/username or password." in html
    await browser.get("/admin", expect=302)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        _, location = await browser.post(
            "/auth/sign_in",
            {"login": "root", "password": "correct horse battery", "next": target},
        )
        assert location == "/settings", target


async def test_a_user_who_is_not_an_admin_gets_403(site: Site) -> None:
    api = await site(federation=HTTP)
    await api.user("mallory")
    browser = Browser(api.client)
    await browser.log_in("mallory")
    for path in PAGES:
        html = await browser.get(path, expect=403)
        assert "These pages are for the administrators of this server." in html
    await browser.get("/", expect=200)  # the token of a page she may see
    await browser.post("/admin/domain_blocks", {"domain": "x.test", "severity": "silence"},
                       expect=403)  # fmt: skip
    assert await api.store.policy.domain_block_by_domain("x.test") is None


async def test_every_page_renders_in_persian_and_english(site: Site) -> None:
    api = await site(title="Riverside", federation=HTTP)
    # The pages speak the admin's account language (the foundation's rule for a viewer).
    browser, root = await _admin(api, "fa")
    user = await api.store.users.by_account(root.account.id)
    assert user is not None
    for path in PAGES:
        await api.store.users.update(user.id, locale="fa")
        persian = await browser.get(path)
        assert '<html lang="fa" dir="rtl">' in persian, path
        assert "مدیریت" in persian, path  # "Administration", in the title
        await api.store.users.update(user.id, locale="en")
        english = await browser.get(path)
        assert '<html lang="en" dir="ltr">' in english, path
        assert "Administration" in english, path
    await api.store.users.update(user.id, locale="fa")
    assert "مسدودسازی دامنه‌ها" in await browser.get("/admin/domain_blocks")  # "Domain blocks"


async def test_a_form_without_the_csrf_token_is_refused(site: Site) -> None:
    api = await site(federation=HTTP)
    browser, _ = await _admin(api)
    await browser.get("/admin/domain_blocks")
    for path, data in (
        ("/admin/domain_blocks", {"domain": "x.test", "severity": "silence"}),
        ("/admin/domain_allows", {"domain": "x.test"}),
        ("/admin/quarantine/x.test/release", {}),
        ("/admin/subscriptions", {"url": "https://a.test/policy/list.json"}),
    ):
        await browser.post(path, data, csrf=False, expect=403)
        wrong = {**data, "csrf_token": "0" * 64}
        await browser.post(path, wrong, csrf=False, expect=403)
    assert await api.store.policy.domain_block_by_domain("x.test") is None
    assert await api.store.policy.domain_allow_by_domain("x.test") is None
    assert await api.store.policy_lists.subscriptions() == []


async def test_a_block_added_through_the_form_is_in_the_api_and_the_policy_log(
    site: Site,
) -> None:
    api = await site(federation=HTTP)
    browser, root = await _admin(api)
    await browser.get("/admin/domain_blocks/new")
    _, location = await browser.post(
        "/admin/domain_blocks",
        {"domain": "spam.test", "severity": "silence", "reject_media": "true",
         "public_comment": "advertising", "private_comment": "seen in March"},
    )  # fmt: skip
    assert location.startswith("/admin/domain_blocks?done=block_added")
    listed = await browser.get(location)
    assert "spam.test is now blocked." in listed
    assert "advertising" in listed
    blocks = await root.json("get", f"{ADMIN}/domain_blocks")
    assert [(b["domain"], b["severity"], b["reject_media"], b["public_comment"],
             b["private_comment"]) for b in blocks] == [
        ("spam.test", "silence", True, "advertising", "seen in March")
    ]  # fmt: skip
    decisions = await root.json("get", f"{ADMIN}/policy/decisions?rule=admin")
    assert [(d["peer"], d["action"], d["activity_type"]) for d in decisions] == [
        ("spam.test", "silence", "DomainBlock")
    ]
    assert decisions[0]["reason"] == "DomainBlock added by root"
    # the panel's log shows it, and its explanation says what the policy does now
    log = await browser.get("/admin/policy_log")
    assert "spam.test" in log and f'href="/admin/policy_log/{decisions[0]["id"]}"' in log
    entry = await browser.get(f"/admin/policy_log/{decisions[0]['id']}")
    assert "DomainBlock added by root" in entry
    assert "The server spam.test is accepted." in entry  # silenced, not refused

    # a second block of the same domain is refused on the form, which keeps what was typed
    html, _ = await browser.post(
        "/admin/domain_blocks", {"domain": "spam.test", "severity": "noop",
                                 "public_comment": "again"}, expect=422,
    )  # fmt: skip
    assert "spam.test is already blocked" in html and "again" in html

    # edit, then remove
    block_id = int(blocks[0]["id"])
    await browser.get(f"/admin/domain_blocks/{block_id}")
    await browser.post(f"/admin/domain_blocks/{block_id}",
                       {"severity": "noop", "reject_reports": "true"})  # fmt: skip
    changed = await root.json("get", f"{ADMIN}/domain_blocks/{block_id}")
    assert (changed["severity"], changed["reject_media"], changed["reject_reports"]) == (
        "noop", False, True,
    )
    _, location = await browser.post(f"/admin/domain_blocks/{block_id}/delete", {})
    assert "The block of spam.test is removed." in await browser.get(location)
    assert await root.json("get", f"{ADMIN}/domain_blocks") == []
    actions = [d["action"] for d in await root.json("get", f"{ADMIN}/policy/decisions?rule=admin")]
    assert actions == ["unblock", "noop", "silence"]


async def test_a_suspend_shows_its_impact_first_and_is_made_once_confirmed(
    site: Site,
) -> None:
    api = await site(federation=HTTP)
    browser, root = await _admin(api)
    alice = await api.user("alice")
    bob = await _remote(api, "bob", "evil.test")
    carol = await _remote(api, "carol", "evil.test")
    await api.store.relationships.follow(alice.account.id, bob.id)
    await api.store.relationships.follow(carol.id, alice.account.id)

    await browser.get("/admin/domain_blocks/new?severity=suspend")
    preview, _ = await browser.post(
        "/admin/domain_blocks",
        {"domain": "evil.test", "severity": "suspend", "public_comment": "harassment"},
        expect=200,
    )
    assert "Suspend evil.test?" in preview
    assert "1 follow of a local account would be cut" in preview
    assert "1 follower of a local account would be removed" in preview
    # nothing changed yet
    assert await api.store.policy.domain_block_by_domain("evil.test") is None
    assert await api.store.relationships.get_follow(alice.account.id, bob.id) is not None
    # the preview's button confirms, carrying what the form said
    assert 'name="confirmed" value="true"' in preview
    assert 'name="public_comment" value="harassment"' in preview
    _, location = await browser.post(
        "/admin/domain_blocks",
        {"domain": "evil.test", "severity": "suspend", "public_comment": "harassment",
         "confirmed": "true"},
    )  # fmt: skip
    assert "evil.test is now blocked." in await browser.get(location)
    assert await api.store.relationships.get_follow(alice.account.id, bob.id) is None
    assert await api.store.relationships.get_follow(carol.id, alice.account.id) is None
    decisions = await root.json("get", f"{ADMIN}/policy/decisions?rule=admin")
    assert decisions[0]["action"] == "suspend"
    assert "severed 1 follow(s), 1 follower(s)" in decisions[0]["reason"]
    entry = await browser.get(f"/admin/policy_log/{decisions[0]['id']}")
    assert "The server evil.test is refused by domain_block:evil.test" in entry

    # raising a lighter block to a suspend previews too
    await browser.post("/admin/domain_blocks", {"domain": "meh.test", "severity": "silence"})
    row = await api.store.policy.domain_block_by_domain("meh.test")
    assert row is not None
    preview, _ = await browser.post(
        f"/admin/domain_blocks/{row.id}", {"severity": "suspend"}, expect=200
    )
    assert "Suspend meh.test?" in preview and "nothing would be cut" in preview
    still = await api.store.policy.domain_block_by_domain("meh.test")
    assert still is not None and still.severity == "silence"


async def test_allows_are_added_and_removed(site: Site) -> None:
    api = await site(federation=HTTP)
    browser, root = await _admin(api)
    await browser.get("/admin/domain_allows")
    _, location = await browser.post("/admin/domain_allows", {"domain": "Friends.Test"})
    assert "friends.test is now allowed." in await browser.get(location)
    allows = await root.json("get", f"{ADMIN}/domain_allows")
    assert [a["domain"] for a in allows] == ["friends.test"]
    html, _ = await browser.post("/admin/domain_allows", {"domain": "not a domain"}, expect=422)
    assert 'class="error"' in html
    await browser.post(f"/admin/domain_allows/{allows[0]['id']}/delete", {})
    assert await root.json("get", f"{ADMIN}/domain_allows") == []
    actions = [d["action"] for d in await root.json("get", f"{ADMIN}/policy/decisions?rule=admin")]
    assert actions == ["unallow", "allow"]


async def test_explain_runs_a_pasted_activity_through_the_policy(
    aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[[policy.rules]]\nkind = "keyword"\npattern = "buy cheap"\naction = "reject"\n')
    conf = dataclasses.replace(
        config,
        policy=load_config(path, environ={}).policy,
        federation=dataclasses.replace(config.federation, scheme="http"),
    )
    api = Api(client=await aiohttp_client(create_app(conf)), config=conf)
    browser, _ = await _admin(api)
    await browser.get("/admin/policy_log/explain")
    activity = (
        '{"id": "https://shop.test/1", "type": "Create", "actor": "https://shop.test/u/s",'
        ' "object": {"id": "https://shop.test/n/1", "type": "Note",'
        ' "content": "Buy cheap watches", "to": ["https://www.w3.org/ns/activitystreams#Public"]}}'
    )
    html, _ = await browser.post("/admin/policy_log/explain", {"activity": activity}, expect=200)
    assert "The server shop.test is accepted." in html
    assert "keyword[0]" in html and "Outcome: rejected" in html
    html, _ = await browser.post("/admin/policy_log/explain", {"activity": "[1]"}, expect=422)
    assert "Paste one activity: a JSON object." in html


async def test_subscriptions_and_drafts(site: Site) -> None:
    api = await site(federation=HTTP)
    browser, root = await _admin(api)
    await browser.get("/admin/subscriptions")
    _, location = await browser.post(
        "/admin/subscriptions",
        [("url", "https://lists.test/policy/list.json"), ("title", "Friends' list"),
         ("mode", "review"), ("priority", "5"), ("severities[]", "suspend"),
         ("excludes", "ok.test")],
    )  # fmt: skip
    assert "Subscribed to https://lists.test/policy/list.json." in await browser.get(location)
    subs = await root.json("get", f"{ADMIN}/domain_permission_subscriptions")
    assert [(s["url"], s["mode"], s["priority"], s["severities"], s["excludes"], s["title"])
            for s in subs] == [("https://lists.test/policy/list.json", "review", 5,
                                ["suspend"], ["ok.test"], "Friends' list")]  # fmt: skip
    html, _ = await browser.post("/admin/subscriptions", {"url": "ftp://x"}, expect=422)
    assert "not an http(s) URL" in html

    # a draft the list left for review: accepted, it is in force; rejected, it is gone
    sub_id = int(subs[0]["id"])
    for domain in ("bad.test", "maybe.test"):
        await api.store.policy_lists.put_draft(
            sub_id, "block", domain, severity="suspend", reject_media=False,
            reject_reports=False, obfuscate=False, public_comment="spam",
        )  # fmt: skip
    page = await browser.get("/admin/subscriptions")
    drafts = await root.json("get", f"{ADMIN}/domain_permission_drafts")
    ids = {d["domain"]: d["id"] for d in drafts}
    assert "bad.test" in page and "maybe.test" in page
    await browser.post(f"/admin/drafts/{ids['bad.test']}/accept", {})
    await browser.post(f"/admin/drafts/{ids['maybe.test']}/reject", {})
    assert await root.json("get", f"{ADMIN}/domain_permission_drafts") == []
    blocks = await root.json("get", f"{ADMIN}/domain_blocks")
    assert [(b["domain"], b["severity"]) for b in blocks] == [("bad.test", "suspend")]

    # sync now: the list cannot be fetched (no such host), which the page says
    html, _ = await browser.post(f"/admin/subscriptions/{sub_id}/sync", {}, expect=422)
    assert "https://lists.test/policy/list.json:" in html
    _, location = await browser.post(f"/admin/subscriptions/{sub_id}/delete", {})
    assert "Unsubscribed from" in await browser.get(location)
    assert await root.json("get", f"{ADMIN}/domain_permission_subscriptions") == []


async def test_reports_are_listed_and_resolved(site: Site) -> None:
    api = await site(federation=HTTP)
    browser, root = await _admin(api)
    alice = await api.user("alice")
    bob = await api.user("bob")
    await alice.json("post", "/api/v1/reports",
                     json={"account_id": str(bob.account.id), "comment": "rude replies"})  # fmt: skip
    html = await browser.get("/admin/reports")
    assert "rude replies" in html and "@bob@" in html and "@alice@" in html
    reports = await root.json("get", f"{ADMIN}/reports")
    rid = reports[0]["id"]
    _, location = await browser.post(f"/admin/reports/{rid}/resolve", {})
    assert f"Report {rid} is resolved." in await browser.get(location)
    assert await root.json("get", f"{ADMIN}/reports") == []
    assert "rude replies" in await browser.get("/admin/reports?resolved=true")
    await browser.post(f"/admin/reports/{rid}/reopen", {})
    assert [r["id"] for r in await root.json("get", f"{ADMIN}/reports")] == [rid]


async def test_an_unknown_item_is_a_404_page(site: Site) -> None:
    api = await site(federation=HTTP)
    browser, _ = await _admin(api)
    assert "This item does not exist" in await browser.get("/admin/domain_blocks/999", expect=404)
    assert "This item does not exist" in await browser.get("/admin/policy_log/999", expect=404)
    await browser.get("/admin/domain_blocks")
    await browser.post("/admin/reports/999/resolve", {}, expect=404)
    assert (await api.store.policy.decisions(Page(limit=5))) == []


async def test_a_wildcard_block_and_its_log_entry(site: Site) -> None:
    api = await site(federation=HTTP)
    browser, root = await _admin(api)
    await browser.get("/admin/domain_blocks/")  # with a trailing slash too
    await browser.post("/admin/domain_blocks", {"domain": "*.Spam.Example", "severity": "silence"})
    blocks = await root.json("get", f"{ADMIN}/domain_blocks")
    assert [b["domain"] for b in blocks] == ["*.spam.example"]
    decisions = await root.json("get", f"{ADMIN}/policy/decisions?rule=admin")
    entry = await browser.get(f"/admin/policy_log/{decisions[0]['id']}")
    assert "*.spam.example" in entry and "The server *.spam.example is accepted." in entry
