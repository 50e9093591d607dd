"""/robots.txt and the noindex mark on the pages of accounts that opted out of indexing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from api_helpers import Api

from fedinode.config import ConfigError, load_config

Site = Callable[..., Awaitable[Api]]

NOINDEX = '<meta name="robots" content="noindex">'


async def test_robots_txt_keeps_crawlers_off_machine_paths(site: Site) -> None:
    api = await site()
    resp = await api.client.get("/robots.txt")
    assert resp.status == 200 and resp.content_type == "text/plain"
    text = await resp.text()
    lines = text.splitlines()
    assert "User-agent: *" in lines
    for path in ("/api/", "/oauth/", "/inbox", "/users/*/inbox", "/admin"):
        assert f"Disallow: {path}" in lines
    assert "Disallow: /" not in lines  # profiles and posts stay crawlable


async def test_robots_deny(site: Site) -> None:
    api = await site(robots="deny")
    text = await (await api.client.get("/robots.txt")).text()
    assert "User-agent: *\nDisallow: /\n" in text


async def test_noindex_follows_the_account_setting(site: Site) -> None:
    api = await site()
    alice, bob = await api.user("alice"), await api.user("bob")
    a_status = await alice.status("hello from alice")
    b_status = await bob.status("hello from bob")
    await alice.json("patch", "/api/v1/accounts/update_credentials", data={"indexable": "false"})
    me = await alice.json("get", "/api/v1/accounts/verify_credentials")
    assert me["indexable"] is False and me["noindex"] is True
    for path in ("/@alice", f"/@alice/{a_status['id']}"):
        assert NOINDEX in await (await api.client.get(path)).text(), path
    for path in ("/@bob", f"/@bob/{b_status['id']}", "/"):
        assert NOINDEX not in await (await api.client.get(path)).text(), path
    await alice.json("patch", "/api/v1/accounts/update_credentials", data={"indexable": "true"})
    assert NOINDEX not in await (await api.client.get("/@alice")).text()


def test_robots_setting_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[instance]\nrobots = "maybe"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert str(info.value).startswith("instance.robots:")
    assert (
        load_config(path, environ={"FEDINODE_INSTANCE__ROBOTS": "deny"}).instance.robots == "deny"
    )
