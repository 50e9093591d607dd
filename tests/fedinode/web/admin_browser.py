"""A browser's view of the HTML pages in tests: cookies kept, forms posted with the CSRF
token the page gave, logging in through /auth/sign_in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from api_helpers import PASSWORD

_BDI = re.compile(r"</?bdi>")
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"|name=\'csrf_token\' value=\'([^\']+)\'')


def text(html: str) -> str:
    """The page without its ``<bdi>`` isolates (they wrap domains in sentences)."""
    return _BDI.sub("", html)


@dataclass
class Browser:
    client: TestClient[Any, Any]
    language: str = "en"
    token: str = ""

    def _headers(self) -> dict[str, str]:
        return {"Accept-Language": self.language, "Accept": "text/html"}

    async def get(self, path: str, expect: int = 200) -> str:
        resp = await self.client.get(path, headers=self._headers(), allow_redirects=False)
        html = await resp.text()
        assert resp.status == expect, (path, resp.status, html[:2000])
        found = _TOKEN.search(html)
        if found:
            self.token = found.group(1) or found.group(2)
        return text(html)

    async def post(
        self, path: str, data: dict[str, Any] | list[tuple[str, str]], *, expect: int = 303,
        csrf: bool = True,
    ) -> tuple[str, str]:
        """The answer's text and, for a redirect, where it leads."""
        if not self.token:
            await self.get("/auth/sign_in")
        pairs = list(data.items()) if isinstance(data, dict) else list(data)
        if csrf:
            pairs.append(("csrf_token", self.token))
        resp = await self.client.post(
            path, data=pairs, headers=self._headers(), allow_redirects=False
        )
        html = await resp.text()
        assert resp.status == expect, (path, resp.status, html[:2000])
        return text(html), resp.headers.get("Location", "")

    async def log_in(self, login: str, password: str = PASSWORD) -> None:
        await self.get("/auth/sign_in")
        _, location = await self.post("/auth/sign_in", {"login": login, "password": password})
        assert location == "/settings"
