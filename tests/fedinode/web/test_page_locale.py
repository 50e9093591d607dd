"""The public pages speak the viewer's language: their own words follow Accept-Language
(Persian right to left, Persian digits and dates), the instance's text stays as written."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from api_helpers import Api

Site = Callable[..., Awaitable[Api]]
FA = {"Accept-Language": "fa-IR,fa;q=0.9,en;q=0.5"}


async def test_landing_page_in_persian(site: Site) -> None:
    api = await site(title="Riverside", languages=("en",), rules=("Be kind",))
    alice = await api.user("alice")
    await alice.status("hello from the river")
    resp = await api.client.get("/", headers=FA)
    html = await resp.text()
    assert "Accept-Language" in resp.headers["Vary"]
    assert "Set-Cookie" not in resp.headers  # a cacheable page sets no cookie
    # The content is English (the instance's language); the page's words are Persian.
    assert '<html lang="en" dir="ltr">' in html
    assert '<h2 lang="fa">چگونه بپیوندید</h2>' in html and "How to join" not in html
    assert "۱ کاربر" in html and "نام‌نویسی بسته است." in html
    assert "Be kind" in html and "hello from the river" in html
    assert "آذر" in html or "۱۴۰" in html  # the post's date in the Solar Hijri calendar


async def test_persian_instance_for_a_persian_viewer(site: Site) -> None:
    api = await site(title="سرور ما", languages=("fa", "en"))
    alice = await api.user("alice")
    status = await alice.status("امروز یک کتاب خوب خواندم")
    for path in ("/", "/@alice", f"/@alice/{status['id']}"):
        html = await (await api.client.get(path, headers=FA)).text()
        assert '<html lang="fa" dir="rtl">' in html, path
        assert 'lang="en"' not in html, path  # nothing left in English
    tag = await (await api.client.get("/tags/nothing", headers=FA)).text()
    assert "هیچ فرستهٔ عمومی با این برچسب در اینجا شناخته نیست." in tag
