"""The login and consent page speaks the visitor's language: Persian right to left for
``Accept-Language: fa``, English otherwise."""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable

import pytest
from api_helpers import PASSWORD, Api, register
from markupsafe import Markup

from fedinode.web.i18n import catalogue, negotiate, translator

Site = Callable[..., Awaitable[Api]]


def _hidden(page: str) -> dict[str, str]:
    return {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r"<input type='hidden' name='([^']+)' value='([^']*)'>", page)
    }


async def _page(api: Api, accept_language: str | None) -> tuple[int, str]:
    app = await register(api)
    headers = {"Accept-Language": accept_language} if accept_language else {}
    resp = await api.client.get(
        "/oauth/authorize",
        params={
            "client_id": app["client_id"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "response_type": "code",
            "scope": "read write",
        },
        headers=headers,
    )
    assert resp.headers["Vary"] == "Accept-Language, Cookie"  # a logged-in browser: consent
    return resp.status, await resp.text()


async def test_persian_login_page(site: Site) -> None:
    api = await site()
    await api.user("alice")
    status, page = await _page(api, "fa-IR,fa;q=0.9,en-US;q=0.8,en;q=0.7")
    assert status == 200
    assert "<html lang='fa' dir='rtl'>" in page
    assert "رایانامه یا نام کاربری" in page and "گذرواژه" in page
    assert "اجازه می‌دهم" in page and "همهٔ داده‌های حساب شما را بخواند" in page
    assert "Email or username" not in page
    # The answer after a wrong password is Persian too, and so is the code page.
    form = _hidden(page)
    bad = await api.client.post(
        "/oauth/authorize",
        data={**form, "login": "alice", "password": "nope", "decision": "approve"},
        headers={"Accept-Language": "fa"},
    )
    assert bad.status == 422
    assert "گذرواژه نادرست است" in await bad.text()
    ok = await api.client.post(
        "/oauth/authorize",
        data={**form, "login": "alice", "password": PASSWORD, "decision": "approve"},
        headers={"Accept-Language": "fa"},
    )
    text = await ok.text()
    assert ok.status == 200 and "<html lang='fa' dir='rtl'>" in text and "کد اجازه" in text


@pytest.mark.parametrize("accept", [None, "en-GB,en;q=0.9", "de-DE,de;q=0.9", "fa;q=0, en"])
async def test_english_by_default(site: Site, accept: str | None) -> None:
    api = await site()
    status, page = await _page(api, accept)
    assert status == 200
    assert "<html lang='en' dir='ltr'>" in page and "Email or username" in page


async def test_error_page_in_persian(site: Site) -> None:
    api = await site()
    resp = await api.client.get(
        "/oauth/authorize",
        params={"client_id": "nope", "redirect_uri": "urn:ietf:wg:oauth:2.0:oob"},
        headers={"Accept-Language": "fa"},
    )
    text = await resp.text()
    assert resp.status == 400 and "<html lang='fa' dir='rtl'>" in text
    assert "اجازه انجام نشد" in text


@pytest.mark.parametrize(
    ("header", "preferred", "expected"),
    [
        (None, None, "en"),
        ("fa", None, "fa"),
        ("FA-ir", None, "fa"),
        ("en;q=0.5, fa;q=0.8", None, "fa"),
        ("en, fa", None, "en"),
        ("de, fa;q=0.1", None, "fa"),
        ("fa;q=bad, en;q=0.1", None, "en"),
        ("*", None, "en"),
        ("en", "fa", "fa"),
        ("fa", "xx", "fa"),
    ],
)
def test_negotiate(header: str | None, preferred: str | None, expected: str) -> None:
    assert negotiate(header, preferred=preferred) == expected


def test_every_persian_string_keeps_its_fields() -> None:
    fields = re.compile(r"\{(\w+)\}")
    persian = catalogue("fa")
    assert len(persian) > 40
    for msgid, text in persian.items():
        assert sorted(fields.findall(msgid)) == sorted(fields.findall(text)), msgid
    t = translator("fa")
    assert t.dir == "rtl" and translator("en").dir == "ltr" and translator("zz").locale == "en"
    assert t.markup("Authorize {app}", app=Markup("<b>x</b>")) == "اجازه به <b>x</b>"
    assert t.markup("Authorize {app}", app="<b>x</b>") == "اجازه به &lt;b&gt;x&lt;/b&gt;"
