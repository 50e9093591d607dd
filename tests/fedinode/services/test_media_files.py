"""The media backends behave alike (a folder, an S3 bucket), refuse paths outside the media,
and are the only way the code writes media files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from s3_rig import MediaOn

from fedinode.config import Config, load_config
from fedinode.services.media_files import media_files, safe_path

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def config(media_config: MediaOn, tmp_path: Path) -> Config:
    return media_config(load_config(None, environ={}), tmp_path)


def test_write_read_walk_remove(config: Config) -> None:
    files = media_files(config)
    assert list(files.walk()) == []
    files.write("attachments/000/1/original.jpg", b"\xff\xd8one")
    files.write("cache/avatars/ab/cd/key-1.png", b"two!")
    files.write("attachments/000/1/original.jpg", b"\xff\xd8new")  # replaced whole
    assert files.read("attachments/000/1/original.jpg") == b"\xff\xd8new"
    assert files.exists("cache/avatars/ab/cd/key-1.png")
    assert not files.exists("cache/avatars/ab/cd/key-2.png")
    assert files.read("cache/avatars/ab/cd/key-2.png") is None
    assert sorted((f.path, f.size) for f in files.walk()) == [
        ("attachments/000/1/original.jpg", 5),
        ("cache/avatars/ab/cd/key-1.png", 4),
    ]
    files.remove("attachments/000/1/original.jpg")
    files.remove("attachments/000/1/original.jpg")  # a missing file is no error
    files.remove("")
    assert [f.path for f in files.walk()] == ["cache/avatars/ab/cd/key-1.png"]


@pytest.mark.parametrize(
    "path", ["../x.jpg", "a/../../x.jpg", "/etc/passwd", "a//b.jpg", "a/./b.jpg", "a\\b", "a\x00b", ""]
)
def test_paths_outside_the_media_are_refused(config: Config, path: str) -> None:
    files = media_files(config)
    assert not safe_path(path)
    with pytest.raises(ValueError):
        files.write(path, b"x")
    assert files.read(path) is None and not files.exists(path)
    files.remove(path)


def test_every_media_writer_goes_through_the_configured_backend() -> None:
    """A folder of its own would leave files behind on an S3 instance (and out of backups)."""
    offenders = []
    pattern = re.compile(r"\b(LocalMediaFiles|S3MediaFiles)\(|media\.directory")
    for source in sorted((ROOT / "fedinode").rglob("*.py")):
        if source.name in ("media_files.py", "config.py"):
            continue
        for n, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{source.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == [], "use fedinode.services.media_files.media_files(config):\n" + "\n".join(
        offenders
    )
