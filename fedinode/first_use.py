"""Handlers of endpoints few requests reach, imported at their first request.

An idle process then does not hold their code and what only they use; the first request
to one of them pays the import once (a few ms). The hot paths (timelines, statuses,
streaming, the inbox) are imported at start as before.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _deferred(name: str, find: Callable[[], Any]) -> Handler:
    target: Handler | None = None

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal target
        if target is None:
            target = find()
        return await target(request)

    handler.__name__ = handler.__qualname__ = name
    setattr(handler, "first_use", find)  # noqa: B010 - for the route table's test
    return handler


class FirstUse:
    """Stands for a module of handlers: ``proxy.name`` is a handler that imports the module
    at its first request and hands the request to ``module.name``."""

    __slots__ = ("_module",)

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Handler:
        module = self._module
        return _deferred(name, lambda: getattr(importlib.import_module(module), name))


def first_use_route(module: str, method: str, path: str) -> Handler:
    """The handler ``module.ROUTES`` has for ``method`` and ``path``, imported at the first
    request (a route it does not have fails that request, and the route table's test)."""

    def find() -> Any:
        for m, p, handler in importlib.import_module(module).ROUTES:
            if (m, p) == (method, path):
                return handler
        raise LookupError(f"{module}.ROUTES has no {method} {path}")

    return _deferred(f"{method} {path}", find)


def first_use_routes(
    table: Mapping[str, Sequence[tuple[str, str]]],
) -> tuple[tuple[str, str, Handler], ...]:
    """``(method, path, handler)`` for each module's routes, each imported at first use."""
    return tuple(
        (method, path, first_use_route(module, method, path))
        for module, routes in table.items()
        for method, path in routes
    )
