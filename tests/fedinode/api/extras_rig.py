"""A small rig for the media, streaming, lists, filters, search and admin tests.

Users get tokens straight from the store (no OAuth dance); statuses are written through
the store and announced on the event channel, as the statuses service does.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from activitypub.urls import Urls
from fedinode import appkeys
from fedinode.app import create_app
from fedinode.config import Config
from fedinode.services.users import create_local_user
from policy.text import tag_key
from storage import events
from storage.models import Account, Status
from storage.statuses import NewStatus, TagName
from storage.store import Store


def with_media_dir(config: Config, tmp_path: Path) -> Config:
    return dataclasses.replace(
        config, media=dataclasses.replace(config.media, directory=str(tmp_path / "media"))
    )


@dataclass
class User:
    account: Account
    token: str
    client: TestClient[Any, Any]

    @property
    def id(self) -> str:
        return str(self.account.id)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def call(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        headers = {**self.auth, **kw.pop("headers", {})}
        resp = await self.client.request(method, path, headers=headers, **kw)
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        assert resp.status == expect, (method, path, resp.status, body)
        return body


@dataclass
class Rig:
    client: TestClient[Any, Any]
    config: Config

    @property
    def store(self) -> Store:
        return self.client.app[appkeys.STORE]

    async def user(
        self, username: str, *, scopes: str = "read write follow push", admin: bool = False
    ) -> User:
        user, account = await create_local_user(
            self.store,
            Urls(self.config.base_url),
            username=username,
            email=f"{username}@example.org",
            password="password123",
            admin=admin,
        )
        return await self.token(user.id, account, scopes)

    async def token(self, user_id: int, account: Account, scopes: str) -> User:
        app = await self.store.oauth.create_app(
            name="rig",
            website=None,
            redirect_uris="urn:ietf:wg:oauth:2.0:oob",
            scopes=scopes,
            client_id=secrets.token_urlsafe(16),
            client_secret=secrets.token_urlsafe(16),
        )
        raw = secrets.token_urlsafe(24)
        await self.store.oauth.create_token(raw, app_id=app.id, user_id=user_id, scopes=scopes)
        return User(account=account, token=raw, client=self.client)

    async def post(
        self, author: User | Account, text: str, *, visibility: str = "public", **kw: Any
    ) -> Status:
        account = author.account if isinstance(author, User) else author
        status = await self.store.statuses.create(
            NewStatus(
                account_id=account.id,
                local=account.local,
                uri="" if account.local else f"{account.uri}/s/{secrets.token_hex(4)}",
                content=f"<p>{text}</p>",
                text=text,
                visibility=visibility,
                **{**kw, "tags": [TagName(tag_key(t), t) for t in kw.get("tags", ())]},
            ),
            uri_template=Urls(self.config.base_url).status_template(account.username),
        )
        await events.publish(self.store.db, "status.created", status_id=status.id)
        return status


async def make_rig(aiohttp_client: Any, config: Config, tmp_path: Path) -> Rig:
    config = with_media_dir(config, tmp_path)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(config))
    return Rig(client=client, config=config)
