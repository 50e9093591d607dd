"""A Mastodon app's view of a running instance, for the multi-instance tests: users with
OAuth tokens from the password grant, and plain HTTP calls to the client API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from federation.conftest import Instance, eventually

PASSWORD = "correct horse battery"


@dataclass
class Client:
    """One user's Mastodon app: a bearer token on one instance."""

    instance: Instance
    session: aiohttp.ClientSession
    token: str
    username: str
    id: str = ""

    @property
    def base(self) -> str:
        return f"http://{self.instance.domain}"

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.instance.domain}"

    async def call(self, method: str, path: str, expect: int = 200, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.session.request(method, self.base + path, headers=headers, **kw) as resp:
            body = await resp.json()
            assert resp.status == expect, (method, path, resp.status, body)
            return body

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, **kw: Any) -> Any:
        return await self.call("POST", path, **kw)

    # -- what an app does -----------------------------------------------------------------

    async def resolve(self, other: Client) -> dict[str, Any]:
        """The other user's account as this instance knows it, through search?resolve."""
        found = await self.get(
            "/api/v2/search",
            params={"q": f"@{other.handle}", "resolve": "true", "type": "accounts"},
        )
        accounts = [a for a in found["accounts"] if a["acct"] == other.handle]
        assert accounts, found
        return accounts[0]  # type: ignore[no-any-return]

    async def lookup(self, other: Client) -> dict[str, Any]:
        return await self.get("/api/v1/accounts/lookup", params={"acct": other.handle})  # type: ignore[no-any-return]

    async def relationship(self, account_id: str) -> dict[str, Any]:
        rels = await self.get("/api/v1/accounts/relationships", params={"id[]": account_id})
        return rels[0]  # type: ignore[no-any-return]

    async def home(self) -> list[dict[str, Any]]:
        return await self.get("/api/v1/timelines/home", params={"limit": "40"})  # type: ignore[no-any-return]

    async def in_home(self, uri: str) -> Any:
        for status in await self.home():
            if status["uri"] == uri:
                return status
        return None

    async def notifications(self, type_: str) -> list[dict[str, Any]]:
        return await self.get("/api/v1/notifications", params={"types[]": type_})  # type: ignore[no-any-return]

    async def status(self, text: str, **fields: Any) -> dict[str, Any]:
        return await self.post("/api/v1/statuses", json={"status": text, **fields})  # type: ignore[no-any-return]


async def make_client(instance: Instance, session: aiohttp.ClientSession, username: str,
                  *, locked: bool = False) -> Client:  # fmt: skip
    """A user on ``instance`` and a token from the password grant, all over HTTP."""
    await instance.user(username, locked=locked)
    base = f"http://{instance.domain}"
    async with session.post(f"{base}/api/v1/apps", json={
        "client_name": "e2e", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": "read write follow push",
    }) as resp:  # fmt: skip
        app = await resp.json()
        assert resp.status == 200, app
    async with session.post(f"{base}/oauth/token", data={
        "grant_type": "password", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "username": username, "password": PASSWORD,
        "scope": "read write follow push",
    }) as resp:  # fmt: skip
        token = await resp.json()
        assert resp.status == 200, token
    client = Client(instance, session, token["access_token"], username)
    me = await client.get("/api/v1/accounts/verify_credentials")
    client.id = me["id"]
    return client


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def follow(follower: Client, target: Client, *, via_lookup: bool = False) -> str:
    """Follow through the API; returns the target's id on the follower's instance."""
    found = await (follower.lookup(target) if via_lookup else follower.resolve(target))
    rel = await follower.post(f"/api/v1/accounts/{found['id']}/follow")
    assert rel["following"] or rel["requested"], rel
    return str(found["id"])


async def following(follower: Client, target_id: str) -> None:
    async def probe() -> bool:
        return bool((await follower.relationship(target_id))["following"])

    await eventually(probe, what=f"{follower.username} follows {target_id}")
