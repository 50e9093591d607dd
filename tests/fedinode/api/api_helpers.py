"""Client API test helpers: users with tokens, request helpers, app registration."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

from activitypub.urls import Urls
from fedinode import appkeys
from fedinode.config import Config
from fedinode.services import oauth
from fedinode.services.users import create_local_user
from storage.models import Account
from storage.store import Store

PASSWORD = "correct horse battery"


@dataclass
class Actor:
    """A local user as the tests see it: account and a bearer token."""

    account: Account
    token: str
    api: Api

    @property
    def id(self) -> str:
        return str(self.account.id)

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.api.client.get(path, headers=self.headers(), **kw)

    async def post(self, path: str, **kw: Any) -> Any:
        headers = {**self.headers(), **kw.pop("headers", {})}
        return await self.api.client.post(path, headers=headers, **kw)

    async def put(self, path: str, **kw: Any) -> Any:
        return await self.api.client.put(path, headers=self.headers(), **kw)

    async def patch(self, path: str, **kw: Any) -> Any:
        return await self.api.client.patch(path, headers=self.headers(), **kw)

    async def delete(self, path: str, **kw: Any) -> Any:
        return await self.api.client.delete(path, headers=self.headers(), **kw)

    async def json(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        resp = await getattr(self, method)(path, **kw)
        body = await resp.json()
        assert resp.status == expect, (resp.status, body)
        return body

    async def status(self, text: str, **fields: Any) -> dict[str, Any]:
        return await self.json("post", "/api/v1/statuses", json={"status": text, **fields})  # type: ignore[no-any-return]

    async def keyword_filter(
        self, title: str, keyword: str, *, context: str = "home", action: str = "warn"
    ) -> dict[str, Any]:
        """A v2 filter with one keyword, made through the API."""
        return await self.json(  # type: ignore[no-any-return]
            "post",
            "/api/v2/filters",
            json={
                "title": title,
                "context": [context],
                "filter_action": action,
                "keywords_attributes": [{"keyword": keyword}],
            },
        )


@dataclass
class Api:
    client: TestClient[Any, Any]
    config: Config

    @property
    def store(self) -> Store:
        return self.client.app[appkeys.STORE]

    async def user(
        self,
        username: str,
        *,
        scopes: str = "read write follow push",
        locked: bool = False,
        admin: bool = False,
    ) -> Actor:
        _, account = await create_local_user(
            self.store,
            Urls(self.config.base_url),
            username=username,
            email=f"{username}@example.org",
            password=PASSWORD,
            locked=locked,
            admin=admin,
        )
        return await self.token_for(account, scopes=scopes)

    async def token_for(self, account: Account, *, scopes: str = "read write follow push") -> Actor:
        app, _ = await oauth.register_app(
            self.store,
            name="tests",
            redirect_uris=[oauth.OOB],
            scopes=["read", "write", "follow", "push"],
            website=None,
        )
        user = await self.store.users.by_account(account.id)
        assert user is not None
        raw, _ = await oauth.issue_token(self.store, app, user.id, scopes.split())
        return Actor(account=account, token=raw, api=self)

    async def anon(self, path: str, expect: int = 200, **kw: Any) -> Any:
        resp = await self.client.get(path, **kw)
        body = await resp.json()
        assert resp.status == expect, (resp.status, body)
        return body


async def register(
    api: Api,
    *,
    redirect_uris: str | list[str] = "urn:ietf:wg:oauth:2.0:oob",
    scopes: str = "read write follow push",
) -> dict[str, Any]:
    resp = await api.client.post(
        "/api/v1/apps",
        json={
            "client_name": "test app",
            "redirect_uris": redirect_uris,
            "scopes": scopes,
            "website": "https://app.example",
        },
    )
    body: dict[str, Any] = await resp.json()
    assert resp.status == 200, body
    return body


def authorize_form_fields(page: str, form_index: int = 0) -> dict[str, str]:
    """Every hidden field of one /oauth/authorize form of a page, the CSRF token's included."""
    forms = re.findall(r"<form method='post' action='/oauth/authorize'.*?</form>", page, re.S)
    assert forms, page
    return {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(
            r"""<input type=['"]hidden['"] name=['"]([^'"]+)['"] value=['"]([^'"]*)['"]>""",
            forms[form_index],
        )
    }
