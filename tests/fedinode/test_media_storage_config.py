"""``[media] backend`` and the S3 settings: one shape per way of writing them, bad keys named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fedinode.config import ConfigError, S3Config, load_config
from fedinode.services.media_files import LocalMediaFiles, S3MediaFiles, media_files

S3 = S3Config(
    endpoint="https://s3.example.ir",
    bucket="media",
    region="ir-thr-1",
    access_key="AK",
    secret_key="SK",
)


def _load(tmp_path: Path, toml: str, env: dict[str, str] | None = None) -> S3Config:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    config = load_config(path, environ=env or {})
    assert config.media.backend == "s3"
    assert isinstance(media_files(config), S3MediaFiles)
    return config.media.s3


def test_local_is_the_default() -> None:
    config = load_config(None, environ={})
    assert config.media.backend == "local" and config.media.public_url == ""
    assert isinstance(media_files(config), LocalMediaFiles)


def test_s3_as_a_table(tmp_path: Path) -> None:
    toml = (
        '[media]\nbackend = "s3"\n[media.s3]\nendpoint = "https://s3.example.ir"\n'
        'bucket = "media"\nregion = "ir-thr-1"\naccess_key = "AK"\nsecret_key = "SK"\n'
    )
    assert _load(tmp_path, toml) == S3


def test_s3_as_flat_keys(tmp_path: Path) -> None:
    toml = (
        '[media]\nbackend = "s3"\nendpoint = "https://s3.example.ir"\n'
        'bucket = "media"\nregion = "ir-thr-1"\naccess_key = "AK"\nsecret_key = "SK"\n'
    )
    assert _load(tmp_path, toml) == S3


def test_s3_from_the_environment(tmp_path: Path) -> None:
    env = {
        "FEDINODE_MEDIA__BACKEND": "s3",
        "FEDINODE_MEDIA__S3__ENDPOINT": "https://s3.example.ir",
        "FEDINODE_MEDIA__BUCKET": "media",
        "FEDINODE_MEDIA__S3__REGION": "ir-thr-1",
        "FEDINODE_MEDIA__ACCESS_KEY": "AK",
        "FEDINODE_MEDIA__S3__SECRET_KEY": "SK",
    }
    assert _load(tmp_path, "", env) == S3


@pytest.mark.parametrize(
    ("toml", "env", "key"),
    [
        ('[media]\nbackend = "ftp"\n', {}, "media.backend"),
        ('[media]\nbackend = "s3"\n', {}, "media.s3.bucket"),
        ('[media]\nbackend = "s3"\n[media.s3]\nbuckett = "x"\n', {}, "media.s3.buckett"),
        ('[media]\nbackend = "s3"\n[media.s3]\nbucket = 3\n', {}, "media.s3.bucket"),
        ('[media]\ns3 = "x"\n', {}, "media.s3"),
        ('[media]\nbackend = "s3"\nbucket = "b"\nregion = ""\n', {}, "media.s3.region"),
        ('[media]\nbackend = "s3"\nbucket = "b"\naccess_key = "AK"\n', {}, "media.s3.secret_key"),
        ('[media]\nbackend = "s3"\nbucket = "b"\nsecret_key = "SK"\n', {}, "media.s3.access_key"),
        ('[media]\nendpoint = "s3.example.ir"\n', {}, "media.s3.endpoint"),
        ('[media]\nprefix = "../up"\n', {}, "media.s3.prefix"),
        ('[media]\npublic_url = "cdn.example.ir"\n', {}, "media.public_url"),
        ("", {"FEDINODE_MEDIA__S3__NOPE": "1"}, "media.s3.nope"),
        ("", {"FEDINODE_MEDIA__BACKEND": "s3"}, "media.s3.bucket"),
    ],
)
def test_bad_media_storage_config_names_the_key(
    tmp_path: Path, toml: str, env: dict[str, str], key: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=env)
    assert str(info.value).startswith(key + ":"), str(info.value)


def test_a_bad_s3_key_exits_2_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[media]\nbackend = "s3"\n[media.s3]\nbucket = "b"\nsecret = "x"\n')
    result = subprocess.run(
        [sys.executable, "-m", "fedinode.cli", "--config", str(path), "migrate"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "media.s3.secret" in lines[0], result.stderr
