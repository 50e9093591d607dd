"""``fedinode backup`` and ``restore``: a serving instance is backed up, restored into a fresh
database and media store, and answers as before (accounts, statuses, follows, keys, media).
Every test runs on SQLite and PostgreSQL, with media in a folder and in an S3 bucket."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import secrets
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from extras_rig import Rig, User, make_rig
from PIL import Image
from s3_rig import MediaOn, make_bucket, stored_files

from fedinode import backup
from fedinode.app import create_app
from fedinode.config import Config
from storage.backup import BackupError, find_pg_tool, libpq_url

POSTGRES_URL = os.environ.get("FEDINODE_TEST_POSTGRES_URL", "")
AS_JSON = {"Accept": "application/activity+json"}


@pytest.fixture
def config(config: Config, media_config: MediaOn, tmp_path: Path) -> Config:
    return media_config(config, tmp_path / "source")


RestoreTarget = Callable[[Config], Awaitable[Config]]


def _need_pg_tools(backend: str) -> None:
    if backend == "postgres":
        try:
            find_pg_tool("pg_dump")
            find_pg_tool("pg_restore")
        except BackupError as exc:
            pytest.skip(str(exc))


@pytest.fixture
async def restore_target(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[RestoreTarget]:
    """A fresh, empty database and media store for a restore. On PostgreSQL a new database
    holding the source's schema name (a dump restores into the schema it was taken from)."""
    databases: list[str] = []
    _need_pg_tools(backend)

    async def make(source: Config) -> Config:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path}/restored-{secrets.token_hex(4)}.sqlite3"
        else:
            import asyncpg

            name = "fedinode_restore_" + secrets.token_hex(5)
            conn = await asyncpg.connect(POSTGRES_URL)
            try:
                await conn.execute(f"CREATE DATABASE {name}")
            finally:
                await conn.close()
            databases.append(name)
            base, schema = libpq_url(source.database.url)
            url = base.rsplit("/", 1)[0] + f"/{name}?search_path={schema}"
        media = dataclasses.replace(source.media, directory=str(tmp_path / "restored-media"))
        if media.backend == "s3":
            media = dataclasses.replace(
                media, s3=make_bucket(request.getfixturevalue("s3_endpoint"))
            )
        return dataclasses.replace(
            source,
            database=dataclasses.replace(source.database, url=url),
            media=media,
        )

    yield make
    if databases:
        import asyncpg

        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            for name in databases:
                await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await conn.close()


def _png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), color).save(out, "PNG")
    return out.getvalue()


def _form(**files: bytes) -> aiohttp.FormData:
    body = aiohttp.FormData()
    for name, data in files.items():
        body.add_field(name, data, filename=f"{name}.png", content_type="image/png")
    return body


async def _populate(rig: Rig) -> tuple[User, User]:
    alice, bob = await rig.user("alice"), await rig.user("bob")
    await alice.call(
        "PATCH", "/api/v1/accounts/update_credentials", data=_form(avatar=_png((200, 0, 0)))
    )
    media = await alice.call("POST", "/api/v2/media", data=_form(file=_png((0, 90, 200))))
    await alice.call(
        "POST", "/api/v1/statuses", json={"status": "سلام, with a picture", "media_ids": [media["id"]]}
    )  # fmt: skip
    await alice.call("POST", "/api/v1/statuses", json={"status": "a second one"})
    await bob.call("POST", "/api/v1/statuses", json={"status": "bob here"})
    await bob.call("POST", f"/api/v1/accounts/{alice.id}/follow")
    return alice, bob


async def _observe(rig: Rig, alice: User, bob: User) -> dict[str, Any]:
    """What apps and peers see of the instance."""
    seen: dict[str, Any] = {
        "me": await alice.call("GET", "/api/v1/accounts/verify_credentials"),
        "alice": await bob.call("GET", f"/api/v1/accounts/{alice.id}"),
        "statuses": await bob.call("GET", f"/api/v1/accounts/{alice.id}/statuses"),
        "followers": await alice.call("GET", f"/api/v1/accounts/{alice.id}/followers"),
        "relationship": await bob.call("GET", f"/api/v1/accounts/relationships?id[]={alice.id}"),
        "home": await bob.call("GET", "/api/v1/timelines/home"),
    }
    actor = await rig.client.get("/users/alice", headers=AS_JSON)
    assert actor.status == 200
    seen["actor"] = json.loads(await actor.read())
    urls = [seen["me"]["avatar"]] + [
        m[k] for s in seen["statuses"] for m in s["media_attachments"] for k in ("url", "preview_url")
    ]  # fmt: skip
    seen["files"] = {}
    for url in urls:
        resp = await rig.client.get(url.split(rig.config.base_url, 1)[1])
        assert resp.status == 200, url
        seen["files"][url] = await resp.read()
    return seen


async def test_backup_while_serving_then_restore_answers_as_before(
    restore_target: RestoreTarget, aiohttp_client: Any, config: Config, tmp_path: Path
) -> None:
    # restore_target first: its database is dropped after the restored app has stopped.
    source = await make_rig(aiohttp_client, config, tmp_path / "source")
    alice, bob = await _populate(source)
    before = await _observe(source, alice, bob)
    assert len(before["statuses"]) == 2 and len(before["followers"]) == 1
    assert before["relationship"][0]["following"] is True
    assert len(before["files"]) == 3

    out = io.StringIO()
    manifest = await backup.backup(source.config, str(tmp_path / "bk"), out=out)  # serving
    assert manifest["counts"]["users"] == 2 and manifest["counts"]["statuses"] == 3
    assert manifest["counts"]["follows"] == 1 and manifest["counts"]["media_attachments"] == 1
    assert manifest["database"]["migration"] > 0
    assert manifest["media"]["files"] == len(stored_files(source.config)) >= 3
    assert "copying media files" in out.getvalue()

    target = await restore_target(source.config)
    assert stored_files(target) == []
    counts = await backup.restore(target, str(tmp_path / "bk"), out=io.StringIO())
    assert counts == manifest["counts"]
    assert stored_files(target) == stored_files(source.config)

    client = await aiohttp_client(create_app(target))
    restored = Rig(client=client, config=target)
    # The same tokens work: they were restored with the users.
    again = [dataclasses.replace(u, client=client) for u in (alice, bob)]
    after = await _observe(restored, *again)
    assert after["actor"]["publicKey"] == before["actor"]["publicKey"]
    assert after == before

    # Restoring again over what is now a used instance is refused, naming the setting.
    with pytest.raises(backup.BackupRefused, match=r"^database.url: the database is not empty"):
        await backup.restore(target, str(tmp_path / "bk"), out=io.StringIO())


def _toml(config: Config) -> str:
    media = config.media
    text = f'[database]\nurl = "{config.database.url}"\n'
    text += f'[instance]\ndomain = "{config.instance.domain}"\n'
    text += f'[media]\nbackend = "{media.backend}"\ndirectory = "{media.directory}"\n'
    if media.backend == "s3":
        s3 = media.s3
        text += (
            f'[media.s3]\nendpoint = "{s3.endpoint}"\nbucket = "{s3.bucket}"\n'
            f'access_key = "{s3.access_key}"\nsecret_key = "{s3.secret_key}"\n'
        )
    return text


def _cli(config_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fedinode.cli", "--config", str(config_file), *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


async def test_cli_backs_up_and_refuses_to_restore_over_data(
    aiohttp_client: Any, config: Config, tmp_path: Path, backend: str
) -> None:
    _need_pg_tools(backend)
    source = await make_rig(aiohttp_client, config, tmp_path / "source")
    await _populate(source)
    config_file = tmp_path / "fedinode.toml"
    config_file.write_text(_toml(source.config))

    made = _cli(config_file, "backup", str(tmp_path / "bk"))
    assert made.returncode == 0, made.stderr
    assert "2 users" in made.stdout and "3 statuses" in made.stdout
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["config"] == "config.toml"
    assert (tmp_path / "bk" / "config.toml").read_text() == config_file.read_text()
    assert manifest["media"]["files"] >= 3
    assert (tmp_path / "bk" / manifest["database"]["file"]).stat().st_size > 0
    # Not a terminal: plain progress lines, no bar redrawn in place.
    assert "copying media files: " in made.stderr and "\r" not in made.stderr

    again = _cli(config_file, "backup", str(tmp_path / "bk"))
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [again.stderr.strip()]
    assert "PATH" in again.stderr

    refused = _cli(config_file, "restore", str(tmp_path / "bk"))
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "database.url" in lines[0] and "not empty" in lines[0], lines

    not_a_backup = _cli(config_file, "restore", str(tmp_path))
    assert not_a_backup.returncode == 2 and "PATH" in not_a_backup.stderr
