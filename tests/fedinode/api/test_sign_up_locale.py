"""The ``locale`` of a sign-up must name a language (Mastodon refuses one it does not know
with 422 and a field error); a known one is kept as the account's, and its mails use it."""

from __future__ import annotations

import dataclasses
from typing import Any

from api_helpers import Api
from signup_helpers import app_token, form, sign_up

from fedinode.app import create_app
from fedinode.config import Config


async def _open_api(aiohttp_client: Any, config: Config) -> Api:
    cfg = dataclasses.replace(
        config,
        instance=dataclasses.replace(config.instance, registrations="open", languages=("fa",)),
        email=dataclasses.replace(config.email, host=""),
    )
    return Api(client=await aiohttp_client(create_app(cfg)), config=cfg)


async def test_unknown_locale_is_refused_with_a_field_error(
    aiohttp_client: Any, config: Config
) -> None:
    api = await _open_api(aiohttp_client, config)
    token = await app_token(api)
    for bad in ("xx", "english", "en-ZZ", "und", "fa;DROP", "en-x-private", "a" * 40):
        status, body = await sign_up(api, token, form("newbie", locale=bad))
        assert status == 422, (bad, body)
        assert body["details"] == {
            "locale": [{"error": "ERR_INCLUSION", "description": "is not included in the list"}]
        }, bad
        assert body["error"] == "Validation failed: Locale is not included in the list"
    assert await api.store.users.by_username("newbie") is None
    # Reported with the other fields' problems, all at once.
    status, body = await sign_up(api, token, form("newbie", locale="xx", password="short"))
    assert status == 422 and set(body["details"]) == {"locale", "password"}


async def test_known_locales_are_kept(aiohttp_client: Any, config: Config) -> None:
    api = await _open_api(aiohttp_client, config)
    token = await app_token(api)
    cases = {"en": "en", "pt_BR": "pt-BR", "zh-TW": "zh-TW", "sr-Latn": "sr-Latn", "ckb": "ckb"}
    for n, (asked, kept) in enumerate(cases.items()):
        status, body = await sign_up(api, token, form(f"user{n}", locale=asked))
        assert status == 200, (asked, body)
        user = await api.store.users.by_username(f"user{n}")
        assert user is not None and user.locale == kept
    # No locale at all: the instance's first language, as before.
    body_without = {k: v for k, v in form("nolocale").items() if k != "locale"}
    status, body = await sign_up(api, token, body_without)
    assert status == 200, body
    user = await api.store.users.by_username("nolocale")
    assert user is not None and user.locale == "fa"
