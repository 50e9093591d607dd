"""``fedinode user password USERNAME``: an operator's reset. Prompts twice on a terminal,
reads one line from a pipe, never takes the password as an argument, signs the user out."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fedinode import cli
from fedinode.services import oauth
from fedinode.services.passwords import DEFAULT_COST
from storage.store import Store

OLD = "the old password"
NEW = "a fresh passphrase"


def fedinode(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedinode.cli", "--config", str(config), *args],
        input=stdin, capture_output=True, text=True, timeout=120, env=dict(os.environ),
    )  # fmt: skip


@pytest.fixture
def config_file(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "fedinode.toml"
    path.write_text(
        '[instance]\ndomain = "127.0.0.1:8999"\n[server]\nport = 8999\n'
        f'[database]\nurl = "{database_url}"\n[federation]\nscheme = "http"\n'
    )
    done = fedinode(path, "user", "create", "alice", "--email", "a@example.org", "--password", OLD)
    assert done.returncode == 0, done.stderr
    return path


def _db(config: Path) -> str:
    return config.read_text().split('url = "')[1].split('"')[0]


async def _token(url: str) -> str:
    store = await Store.open(url)
    try:
        user = await store.users.by_username("alice")
        assert user is not None
        raw, _ = await oauth.issue_token(store, None, user.id, ["read"])
        return raw
    finally:
        await store.close()


async def _state(url: str, token: str) -> tuple[bool, bool, bool]:
    """(the old password works, the new one works, the token is live)"""
    store = await Store.open(url)
    try:
        old = await oauth.check_login(store, "alice", OLD, DEFAULT_COST) is not None
        new = await oauth.check_login(store, "alice", NEW, DEFAULT_COST) is not None
        return old, new, await store.oauth.token(token) is not None
    finally:
        await store.close()


def test_a_piped_password_is_set_and_every_session_signed_out(config_file: Path) -> None:
    url = _db(config_file)
    token = asyncio.run(_token(url))
    done = fedinode(config_file, "user", "password", "alice", stdin=NEW + "\n")
    assert done.returncode == 0, done.stderr
    assert "alice" in done.stdout and "1 access token(s) revoked" in done.stdout
    assert NEW not in done.stdout + done.stderr
    assert asyncio.run(_state(url, token)) == (False, True, False)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["bob"], NEW + "\n", "no local user 'bob'"),
        (["alice"], "short\n", "at least 8 characters"),
        (["alice"], "", "at least 8 characters"),  # nothing piped in
        (["alice", "--password", NEW], "", "unrecognized arguments"),  # never in argv
        ([], "", "the following arguments are required: username"),
    ],
    ids=["unknown-user", "too-short", "empty-stdin", "argv-password", "no-username"],
)
def test_refusals_exit_2_and_change_nothing(
    config_file: Path, args: list[str], stdin: str, message: str
) -> None:
    url = _db(config_file)
    token = asyncio.run(_token(url))
    done = fedinode(config_file, "user", "password", *args, stdin=stdin)
    assert done.returncode == 2, (done.stdout, done.stderr)
    last = done.stderr.strip().splitlines()[-1]  # one line saying why (after argparse's usage)
    assert last.startswith("fedinode: ") and message in last
    assert asyncio.run(_state(url, token)) == (True, False, True)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _on_a_terminal(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> list[str]:
    prompts: list[str] = []

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        if not answers:
            raise EOFError  # Ctrl-D
        return answers.pop(0)

    monkeypatch.setattr("getpass.getpass", getpass)
    monkeypatch.setattr(sys, "stdin", _Terminal())
    return prompts


def test_on_a_terminal_it_prompts_twice(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _db(config_file)
    token = asyncio.run(_token(url))
    prompts = _on_a_terminal(monkeypatch, [NEW, NEW])
    assert cli.main(["--config", str(config_file), "user", "password", "@alice"]) == 0
    assert len(prompts) == 2
    assert "revoked" in capsys.readouterr().out
    assert asyncio.run(_state(url, token)) == (False, True, False)


def test_on_a_terminal_a_mismatch_changes_nothing(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _db(config_file)
    token = asyncio.run(_token(url))
    _on_a_terminal(monkeypatch, [NEW, NEW + "x"])
    assert cli.main(["--config", str(config_file), "user", "password", "alice"]) == 2
    assert "do not match" in capsys.readouterr().err
    assert asyncio.run(_state(url, token)) == (True, False, True)


def test_on_a_terminal_ctrl_d_cancels(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _db(config_file)
    token = asyncio.run(_token(url))
    _on_a_terminal(monkeypatch, [NEW])
    assert cli.main(["--config", str(config_file), "user", "password", "alice"]) == 2
    assert "cancelled" in capsys.readouterr().err
    assert asyncio.run(_state(url, token)) == (True, False, True)
