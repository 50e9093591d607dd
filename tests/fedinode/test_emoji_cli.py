"""``fedinode emoji add|list|remove``: run as an operator runs it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image


def fedinode(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedinode.cli", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip


def test_emoji_add_list_remove(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "fedinode.toml"
    media = tmp_path / "media"
    config.write_text(f'[database]\nurl = "{database_url}"\n[media]\ndirectory = "{media}"\n')
    image = tmp_path / "wave.gif"
    frames = [Image.new("RGB", (40, 40), (i * 60, 0, 0)) for i in range(3)]
    frames[0].save(image, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)

    added = fedinode("--config", str(config), "emoji", "add", "wave", str(image), "--category", "hands")
    assert added.returncode == 0, added.stderr
    assert ":wave: added (image/gif" in added.stdout
    again = fedinode("--config", str(config), "emoji", "add", ":wave:", str(image))
    assert again.returncode == 2 and "exists" in again.stderr

    listed = fedinode("--config", str(config), "emoji", "list")
    assert listed.returncode == 0, listed.stderr
    line = listed.stdout.strip()
    assert line.startswith(":wave: [hands] emojis/"), line
    stored = media / line.split()[-1]
    # Re-encoded, and an animation stays one.
    assert getattr(Image.open(io.BytesIO(stored.read_bytes())), "n_frames", 1) == 3

    removed = fedinode("--config", str(config), "emoji", "remove", "wave")
    assert removed.returncode == 0, removed.stderr
    assert not stored.exists()
    assert fedinode("--config", str(config), "emoji", "list").stdout == ""
    missing = fedinode("--config", str(config), "emoji", "remove", "wave")
    assert missing.returncode == 2 and ":wave:" in missing.stderr


def test_emoji_add_refuses_what_is_not_an_image(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "fedinode.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n[media]\ndirectory = "{tmp_path}"\n')
    text = tmp_path / "note.txt"
    text.write_text("hello")
    done = fedinode("--config", str(config), "emoji", "add", "note", str(text))
    assert done.returncode == 2
    assert "invalid" in done.stderr
    assert fedinode("--config", str(config), "emoji", "add", "x", str(tmp_path / "none.png")).returncode == 2
