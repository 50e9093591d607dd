"""The consent page says in words what each scope lets the app do, for every scope Mastodon
4.3 documents (the granular ones too), in English and in Persian; other scopes are refused."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from api_helpers import Api, register

from fedinode.api.auth import KNOWN_SCOPES
from fedinode.web.i18n import translator
from fedinode.web.oauth_page import SCOPE_TEXT

Site = Callable[..., Awaitable[Api]]
REDIRECT = "https://app.example/callback"


def _query(client_id: str, scope: str) -> dict[str, str]:
    return {"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": scope}  # fmt: skip


def test_every_documented_scope_has_words() -> None:
    assert set(SCOPE_TEXT) == set(KNOWN_SCOPES)
    fa = translator("fa")
    for scope, words in SCOPE_TEXT.items():
        assert fa(words) != words, scope  # translated


async def test_consent_page_describes_granular_scopes_in_both_languages(site: Site) -> None:
    api = await site(federation={"scheme": "http"})
    scopes = "read:statuses write:media admin:read:accounts admin:write:reports push"
    app = await register(api, redirect_uris=REDIRECT, scopes=scopes)
    query = _query(app["client_id"], scopes)
    resp = await api.client.get("/oauth/authorize", params=query)
    english = await resp.text()
    assert resp.status == 200, english
    for scope, words in (
        ("read:statuses", "see all posts"),
        ("write:media", "upload media files"),
        ("admin:read:accounts", "read sensitive information of all accounts"),
        ("admin:write:reports", "perform moderation actions on reports"),
        ("push", "receive your push notifications"),
    ):
        assert f"<strong dir='ltr'>{scope}</strong>: {words}</li>" in english, scope
    resp = await api.client.get("/oauth/authorize", params=query, headers={"Accept-Language": "fa"})
    persian = await resp.text()
    assert "<strong dir='ltr'>write:media</strong>: پرونده‌های رسانه بارگذاری کند</li>" in persian
    assert "<strong dir='ltr'>read:statuses</strong>: همهٔ فرسته‌ها را ببیند</li>" in persian
    # A scope nobody documents is refused, as before.
    bad = await api.client.get(
        "/oauth/authorize", params=_query(app["client_id"], "read:everything")
    )
    assert bad.status == 400 and "scope" in (await bad.text()).lower()
