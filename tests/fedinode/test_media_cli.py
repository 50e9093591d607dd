"""``fedinode media prune``: run as a user runs it, and its progress display."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from fedinode.media_cli import Progress


def fedinode(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedinode.cli", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip


def test_media_prune_runs_and_reports(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "fedinode.toml"
    config.write_text(
        f'[database]\nurl = "{database_url}"\n[media]\ndirectory = "{tmp_path / "media"}"\n'
    )
    done = fedinode("--config", str(config), "media", "prune", "--older-than", "30")
    assert done.returncode == 0, done.stderr
    assert "pruned 0 cached remote file(s), 0 bytes freed" in done.stdout
    assert "pruning cached media: 0/0" in done.stderr  # a pipe: plain lines, no bar


def test_media_prune_refuses_a_bad_number_of_days(tmp_path: Path) -> None:
    for bad in ("soon", "-2", "nan"):
        done = fedinode("media", "prune", "--older-than", bad)
        assert done.returncode == 2
        assert "--older-than" in done.stderr


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_a_bar_on_a_terminal_and_lines_otherwise() -> None:
    tty = _Terminal()
    bar = Progress("pruning", tty)
    for done in range(5):
        bar(done, 4)
    text = tty.getvalue()
    assert "\r" in text and "[" + "#" * 30 + "] 4/4\n" in text
    assert "pruning [" + "-" * 30 + "] 0/4" in text

    plain = io.StringIO()
    lines = Progress("pruning", plain, every=3600)
    for done in range(101):
        lines(done, 100)
    assert plain.getvalue().splitlines() == ["pruning: 0/100", "pruning: 100/100"]
