"""Mastodon.py sessions on a running instance: an app registered and a password login, as a
user of the library makes them."""

from __future__ import annotations

from typing import Any

import mastodon

SCOPES = ["read", "write", "follow", "push"]
ADMIN_SCOPES = [*SCOPES, "admin:read", "admin:write"]


def log_in(
    base: str, login: str, password: str, scopes: list[str] = SCOPES, *, app: str = "acceptance"
) -> Any:
    """A Mastodon.py client of a new app named ``app``, logged in as ``login`` (username or
    e-mail)."""
    client_id, client_secret = mastodon.Mastodon.create_app(app, api_base_url=base, scopes=scopes)
    api = mastodon.Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
    api.log_in(login, password, scopes=scopes, allow_http=True)
    return api
