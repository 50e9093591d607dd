"""Acceptance: the real toot CLI drives a running instance over plain HTTP.

The instance runs in this event loop (as in test_mastodon_py); each toot command is a
subprocess with its own HOME and XDG_CONFIG_HOME, so every user has their own toot config.
toot takes ``--instance http://…`` as given (it adds https:// only to a bare domain).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from test_mastodon_py import PASSWORD, instance  # noqa: F401  (the running-instance fixture)

pytest.importorskip("toot")


def _toot_command() -> str:
    beside = Path(sys.executable).with_name("toot")
    found = str(beside) if beside.exists() else shutil.which("toot")
    if found is None:
        pytest.skip("the toot command is not installed")
    return found


@dataclass
class TootUser:
    home: Path
    command: str

    async def run(self, *args: str, expect: int = 0) -> str:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TOOT")},
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / "config"),
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
        proc = await asyncio.create_subprocess_exec(
            self.command,
            *args,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        text = out.decode()
        assert proc.returncode == expect, (args, proc.returncode, text, err.decode())
        return text

    async def json(self, *args: str) -> Any:
        return json.loads(await self.run(*args, "--json"))


async def _login(tmp_path: Path, base: str, name: str, login: str) -> TootUser:
    user = TootUser(tmp_path / name, _toot_command())
    user.home.mkdir()
    out = await user.run("login_cli", "--instance", base, "--email", login, "--password", PASSWORD)
    assert "Successfully logged in" in out
    return user


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 220)).save(out, "PNG")
    return out.getvalue()


async def test_toot_cli_end_to_end(instance: str, tmp_path: Path) -> None:  # noqa: F811
    alice = await _login(tmp_path, instance, "alice", "alice@example.org")
    bob = await _login(tmp_path, instance, "bob", "bob")  # a username works as the login too

    me = await alice.json("whoami")
    assert me["username"] == "alice" and me["acct"] == "alice"
    assert "@alice" in await alice.run("whoami")
    assert "alice" in await bob.run("whois", "alice")

    await bob.run("follow", "alice")
    following = await bob.run("following")
    assert "alice" in following

    posted = await alice.json("post", "hello from toot #tooting")
    assert "hello from toot" in posted["content"] and posted["tags"][0]["name"] == "tooting"

    home = await bob.run("timelines", "home", "--no-pager", "--no-clear")
    assert "hello from toot" in home
    legacy = await bob.run("timeline", "--once")
    assert "hello from toot" in legacy

    notes = await alice.run("notifications")
    assert "bob" in notes and "follow" in notes.lower()
    notes_json = await alice.json("notifications")
    assert [n["type"] for n in notes_json] == ["follow"]

    await bob.run("favourite", posted["id"])
    reply = await bob.json("post", "@alice nice one", "--reply-to", posted["id"])
    assert reply["in_reply_to_id"] == posted["id"]
    thread = await alice.run("thread", posted["id"])
    assert "nice one" in thread
    types = [n["type"] for n in await alice.json("notifications")]
    assert types == ["mention", "favourite", "follow"]

    image = tmp_path / "pic.png"
    image.write_bytes(_png())
    with_media = await alice.json(
        "post", "a picture", "--media", str(image), "--description", "blue"
    )
    assert with_media["media_attachments"][0]["description"] == "blue"

    tagged = await bob.run("timelines", "tag", "tooting", "--no-pager", "--no-clear")
    assert "hello from toot" in tagged
    assert "fedinode" in await alice.run("instance", instance)
    uploaded = await alice.run("upload", str(image), "--description", "alone")
    assert "Successfully uploaded media" in uploaded

    # Profile: display name, note and an avatar, as multipart.
    assert "Account updated" in await alice.run(
        "update_account", "--display-name", "Alice T", "--note", "hi", "--avatar", str(image)
    )
    me = await alice.json("whoami")
    assert me["display_name"] == "Alice T" and "/media/accounts/avatars/" in me["avatar"]

    # toot finds accounts through search: muted and blocked ones must still be found.
    assert "muted" in await bob.run("mute", "alice")
    assert "alice" in await bob.run("muted")
    assert "no longer muted" in await bob.run("unmute", "alice")
    assert "blocking" in await bob.run("block", "alice")
    assert "no longer blocked" in await bob.run("unblock", "alice")
    await bob.run("follow", "alice")  # the block ended the follow

    await alice.run("follow", "bob")
    assert "created" in await alice.run("lists", "create", "friends")
    await alice.run("lists", "add", "friends", "bob")
    assert "bob" in await alice.run("lists", "accounts", "friends")
    assert "#tooting" in (
        await alice.run("tags", "follow", "tooting") + await alice.run("tags", "followed")
    )

    await alice.run("delete", with_media["id"])
    await bob.run("unfollow", "alice")
    assert "alice" not in await bob.run("following")
