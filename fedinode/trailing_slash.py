"""Every route answers with or without a trailing slash, for every method, without a redirect.

Rails (so Mastodon) matches ``/api/v1/admin/domain_blocks/`` like the path without the
slash, and clients depend on it: Mastodon.py POSTs domain blocks to the slashed form. A
redirect will not do (a 301/308 after a POST loses the body or the method in many clients),
and aiohttp's ``normalize_path_middleware`` redirects, so this is done in routing instead.

One catch-all resource is registered in the router's root bucket. The router tries it only
after every resource that could match the path itself has declined (aiohttp walks the index
from the longest path prefix down to ``/``), and it resolves the path again with its trailing
slashes removed. The handler then runs on the original request with the match of the route
without the slash. Routes registered by anyone (client API, S2S, OAuth, pages) are covered,
whenever they were added, since the resolution happens per request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractResource, UrlDispatcher
from yarl import URL

if TYPE_CHECKING:
    from aiohttp.web_urldispatcher import _Resolve


class TrailingSlashResource(AbstractResource):
    """Resolves ``/path/`` (or ``/path//``) as ``/path`` when nothing matched it as given."""

    def __init__(self, router: UrlDispatcher) -> None:
        super().__init__(name=None)
        self._router = router

    @property
    def canonical(self) -> str:
        return "/"  # indexed under "/", so tried after every more specific candidate

    def url_for(self, **kwargs: str) -> URL:
        raise RuntimeError("the trailing-slash resource has no URL of its own")

    async def resolve(self, request: web.Request) -> _Resolve:
        raw = request.rel_url.raw_path
        stripped = raw.rstrip("/")
        if stripped == raw or not stripped:
            return None, set()
        found = await self._router.resolve(
            request.clone(rel_url=request.rel_url.with_path(stripped, encoded=True))
        )
        error = found.http_exception
        if error is None:
            return found, set()
        if isinstance(error, web.HTTPMethodNotAllowed):
            return None, set(error.allowed_methods)
        return None, set()

    def add_prefix(self, prefix: str) -> None:
        raise RuntimeError("the trailing-slash resource belongs to the root application")

    def get_info(self) -> dict[str, Any]:  # type: ignore[override]
        return {"trailing_slash": True}

    def raw_match(self, path: str) -> bool:
        return False

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Any:
        return iter(())


def accept_trailing_slash(router: UrlDispatcher) -> None:
    """Make every route of ``router`` (present or added later) answer with a trailing slash."""
    if not any(isinstance(r, TrailingSlashResource) for r in router.resources()):
        router.register_resource(TrailingSlashResource(router))
