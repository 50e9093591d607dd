"""The landing page at /: what the instance is, its rules, how to join, which apps work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from api_helpers import Api

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

Site = Callable[..., Awaitable[Api]]


async def test_landing_page_describes_the_instance(site: Site) -> None:
    api = await site(
        title="Riverside Social",
        description="A small server for the people of Riverside.",
        rules=("Be kind to each other", "No advertising"),
        contact_email="admin@riverside.example",
    )
    alice = await api.user("alice")
    await alice.status("hello from the river")
    await alice.status("followers only words", visibility="private")

    resp = await api.client.get("/", headers={"Accept": BROWSER})
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    assert "<title>Riverside Social</title>" in html
    assert '<meta name="viewport"' in html
    assert "A small server for the people of Riverside." in html
    assert "Be kind to each other" in html and "No advertising" in html
    # how to join: registrations are closed by default, and whom to ask
    assert "Registrations are closed" in html
    assert 'href="mailto:admin@riverside.example"' in html
    for app in ("Tusky", "Ivory", "Elk", "Phanpy", "toot"):
        assert app in html
    # recent public local posts, never a private one
    assert "hello from the river" in html and "followers only words" not in html
    assert 'content="https://local.test/static/thumbnail.png"' in html  # og:image
    assert '<html lang="en" dir="ltr">' in html


async def test_landing_page_for_apps_asking_json_is_still_html(site: Site) -> None:
    # Mastodon answers / with its HTML page whatever the Accept; so do we (no JSON 404).
    api = await site(title="Riverside Social")
    for accept in ("application/json", "application/activity+json", "*/*"):
        resp = await api.client.get("/", headers={"Accept": accept})
        assert resp.status == 200, accept
        assert resp.content_type == "text/html"
        assert "Riverside Social" in await resp.text()
    assert (await api.client.get("/")).status == 200  # no Accept at all


async def test_landing_page_escapes_instance_text(site: Site) -> None:
    api = await site(
        title="<script>alert('t')</script> & co",
        description='<img src=x onerror="alert(1)">',
        rules=("<b>bold</b> rule",),
    )
    html = await (await api.client.get("/", headers={"Accept": BROWSER})).text()
    assert "<script>" not in html and "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; &amp; co" in html
    assert "&lt;b&gt;bold&lt;/b&gt; rule" in html


async def test_landing_page_in_a_right_to_left_language(site: Site) -> None:
    api = await site(title="سرور ما", languages=("fa", "en"), description="خوش آمدید")
    html = await (await api.client.get("/", headers={"Accept": BROWSER})).text()
    assert '<html lang="fa" dir="rtl">' in html
    assert '<h1 dir="auto">سرور ما</h1>' in html
    # the page's own words are English, and say so
    assert '<h2 lang="en">How to join</h2>' in html


async def test_how_to_join_follows_the_registrations_setting(site: Site) -> None:
    api = await site(registrations=True, approval_required=True)
    html = await (await api.client.get("/")).text()
    assert "Registrations are open" in html and "approved by an administrator" in html
    assert "Registrations are closed" not in html
    assert "Sign up from any of the apps below" in html


async def test_how_to_join_by_invitation(site: Site) -> None:
    api = await site(registrations="invite", contact_email="admin@riverside.example")
    html = await (await api.client.get("/")).text()
    assert "Registrations are by invitation" in html
    assert 'href="mailto:admin@riverside.example"' in html
