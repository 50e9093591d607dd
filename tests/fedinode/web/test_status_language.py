"""A status posted without a language: its script, the author's default, the instance's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from api_helpers import Api

Site = Callable[..., Awaitable[Api]]


async def test_language_from_script_then_defaults(site: Site) -> None:
    api = await site(languages=("en",))
    alice = await api.user("alice")
    persian = await alice.status("امروز یک کتاب خوب خواندم")
    arabic = await alice.status("مرحبا بالعالم")
    english = await alice.status("hello world")
    named = await alice.status("امروز", language="en")
    assert (persian["language"], arabic["language"], english["language"]) == ("fa", "ar", "en")
    assert named["language"] == "en"  # what the author says wins
    page = await api.client.get(f"/@alice/{persian['id']}")
    html = await page.text()
    assert '<html lang="fa" dir="rtl">' in html and 'lang="fa">' in html
    await alice.json(
        "patch", "/api/v1/accounts/update_credentials", data={"source[language]": "de"}
    )
    assert (await alice.status("hallo Welt"))["language"] == "de"


async def test_instance_language_when_nothing_else_says(site: Site) -> None:
    api = await site(languages=("fa", "en"))
    alice = await api.user("alice")
    status = await alice.status("ok 👍")
    assert status["language"] == "fa"
    page = await (await api.client.get(f"/@alice/{status['id']}")).text()
    assert '<html lang="fa" dir="rtl">' in page
    profile = await (await api.client.get("/@alice")).text()
    assert '<html lang="fa" dir="rtl">' in profile and '<div class="counts" lang="en">' in profile
