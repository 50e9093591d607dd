"""Routes whose handlers are imported at their first request: each one reaches a handler
of its module, and the paths listed for the router are the modules' own."""

from __future__ import annotations

import importlib

import pytest
from aiohttp import web

from fedinode.api.routes import POLICY_ADMIN, add_routes
from fedinode.web.admin.routes import PAGES


@pytest.mark.parametrize("table", [PAGES, POLICY_ADMIN], ids=["admin panel", "policy admin API"])
def test_the_listed_routes_are_the_modules_own(
    table: dict[str, tuple[tuple[str, str], ...]],
) -> None:
    for module, routes in table.items():
        own = [(method, path) for method, path, _ in importlib.import_module(module).ROUTES]
        assert own == list(routes), module


def test_every_route_imported_at_first_use_finds_its_handler() -> None:
    app = web.Application()
    add_routes(app)
    deferred = [route for route in app.router.routes() if hasattr(route.handler, "first_use")]
    assert len(deferred) > 150  # the rarely used endpoints are deferred
    for route in deferred:
        target = route.handler.first_use()  # type: ignore[attr-defined]
        assert callable(target), (route.method, route.resource)
        assert not hasattr(target, "first_use")
