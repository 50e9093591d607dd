"""``fedinode backup PATH`` and ``fedinode restore PATH``: the database, the media files and
the configuration file in one folder with a manifest.

PATH/manifest.json         what is there: versions, migration level, counts
PATH/database.sqlite3      SQLite's online backup (consistent while the instance serves)
PATH/database.pgdump       or pg_dump's custom format (PostgreSQL)
PATH/config.toml           the configuration file the instance ran with, if any
PATH/media/…               every media file, from the folder or the bucket

The database is copied first, then the media: files are never rewritten, so every file the
copied database names is there (one deleted in between is simply missing).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, TypeVar

from fedinode.config import Config
from fedinode.media_cli import Progress
from fedinode.services.media_files import MediaFiles, StoredFile, media_files, safe_path
from fedinode.version import FEDINODE_VERSION
from storage import backup as db_backup
from storage.db import open_database, sqlite_path
from storage.sqlite.writelock import LOCK_SUFFIXES
from storage.store import Store

MANIFEST = "manifest.json"
FORMAT = "fedinode-backup"
FORMAT_VERSION = 1
MEDIA_FOLDER = "media"
CONFIG_FILE = "config.toml"
PARALLEL = 8  # media files copied at once
T = TypeVar("T")
R = TypeVar("R")


class BackupRefused(Exception):
    """A usage problem (exit 2): names the argument or key at fault, in one line."""


def _say(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()


# -- backup --------------------------------------------------------------------------------


async def backup(config: Config, path: str, *, out: TextIO | None = None) -> dict[str, Any]:
    """Write a backup of this instance into the folder ``path`` (new, or empty); returns
    the manifest."""
    err = out if out is not None else sys.stderr
    target = Path(path)
    await asyncio.to_thread(_prepare_folder, target)
    url = config.database.url
    dialect = db_backup.dialect_of(url)
    started = time.time()

    if dialect == "sqlite":
        db_file = target / db_backup.SQLITE_FILE
        progress = Progress("copying the database (pages)", err)
        await asyncio.to_thread(db_backup.sqlite_backup, url, db_file, progress)
        copy_url = f"sqlite:///{db_file.resolve()}"
    else:
        db_file = target / db_backup.POSTGRES_FILE
        _say(err, "dumping the database with pg_dump …")
        await asyncio.to_thread(db_backup.pg_dump, url, db_file)
        copy_url = url  # counted live, right after the dump
    db = await open_database(copy_url)
    try:
        counts = await db_backup.counts(db)
        level = await db_backup.migration_level(db)
    finally:
        await db.close()
    if dialect == "sqlite":  # the copy's write-lock files: nothing else opens the copy
        await asyncio.to_thread(_remove_lock_files, db_file)

    files, size = await _copy_media_out(media_files(config), target / MEDIA_FOLDER, err)

    config_name = await asyncio.to_thread(_copy_config, config.source, target)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "fedinode_version": FEDINODE_VERSION,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "base_url": config.base_url,
        "database": {
            "dialect": dialect,
            "file": db_file.name,
            "migration": level,
            "schema": db_backup.libpq_url(url)[1] if dialect == "postgres" else None,
        },
        "counts": counts,
        "media": {
            "backend": config.media.backend,
            "folder": MEDIA_FOLDER,
            "files": files,
            "bytes": size,
        },
        "config": config_name,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _prepare_folder(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupRefused(f"PATH: {target} exists and is not an empty folder")
    target.mkdir(parents=True, exist_ok=True)


def _copy_config(source: str, target: Path) -> str | None:
    if not source or not Path(source).is_file():
        return None
    shutil.copyfile(source, target / CONFIG_FILE)
    return CONFIG_FILE


async def _copy_media_out(files: MediaFiles, folder: Path, err: TextIO) -> tuple[int, int]:
    listing: list[StoredFile] = await asyncio.to_thread(lambda: list(files.walk()))

    def copy(item: StoredFile) -> int | None:
        data = files.read(item.path)
        if data is None or not safe_path(item.path):  # None: deleted since the listing
            return None
        _write_file(folder / item.path, data)
        return len(data)

    written = await _in_threads(copy, listing, Progress("copying media files", err))
    sizes = [n for n in written if n is not None]
    return len(sizes), sum(sizes)


async def _in_threads(work: Callable[[T], R], items: list[T], progress: Progress) -> list[R]:
    """``work`` over ``items``, a few at once (each object-store request waits a round
    trip), reporting progress as they finish."""
    progress(0, len(items))
    pending = iter(items)
    results: list[R] = []

    async def runner() -> None:
        for item in pending:  # shared: each runner takes the next item when it is free
            results.append(await asyncio.to_thread(work, item))
            progress(len(results), len(items))

    await asyncio.gather(*(runner() for _ in range(PARALLEL)))
    return results


def _remove_lock_files(db_file: Path) -> None:
    for suffix in LOCK_SUFFIXES:
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)


def _write_file(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


# -- restore -------------------------------------------------------------------------------


def read_manifest(path: str) -> dict[str, Any]:
    try:
        manifest = json.loads((Path(path) / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupRefused(f"PATH: {path} is not a fedinode backup (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise BackupRefused(f"PATH: cannot read {MANIFEST}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"PATH: {path} is not a fedinode backup")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupRefused(
            f"PATH: backup format {manifest.get('format_version')} is not one this "
            f"version reads ({FORMAT_VERSION})"
        )
    return manifest


async def restore(config: Config, path: str, *, out: TextIO | None = None) -> dict[str, int]:
    """Load a backup into this (empty) instance; returns the counts after the restore."""
    err = out if out is not None else sys.stderr
    source = Path(path)
    manifest = read_manifest(path)
    url = config.database.url
    dialect = db_backup.dialect_of(url)
    database = manifest["database"]
    if database["dialect"] != dialect:
        names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
        raise BackupRefused(
            f"database.url: the backup holds a {names[database['dialect']]} database; "
            f"restore it into a {names[database['dialect']]} url"
        )
    if manifest.get("base_url") and manifest["base_url"] != config.base_url:
        raise BackupRefused(
            f"instance.domain: the backup is of {manifest['base_url']}, this configuration "
            f"serves {config.base_url}; restore with the backup's [instance] settings"
        )
    if dialect == "postgres" and database.get("schema") != db_backup.libpq_url(url)[1]:
        raise BackupRefused(
            f"database.url: the backup holds schema {database.get('schema') or 'public'}; "
            "restore into a url whose search_path names the same schema"
        )
    await _refuse_unless_empty(url)

    db_file = source / database["file"]
    if dialect == "sqlite":
        _say(err, "restoring the database …")
        await asyncio.to_thread(db_backup.sqlite_restore, db_file, url)
    else:
        _say(err, "restoring the database with pg_restore …")
        await asyncio.to_thread(db_backup.pg_restore, db_file, url, clean=True)

    await _copy_media_in(source / manifest["media"]["folder"], media_files(config), err)

    store = await Store.open(url)  # migrations newer than the backup are applied here
    try:
        counts = await db_backup.counts(store.db)
    finally:
        await store.close()
    expected = manifest.get("counts", {})
    differ = {k: (v, counts.get(k)) for k, v in expected.items() if counts.get(k) != v}
    if differ and dialect == "sqlite":  # an exact copy: a difference is a broken restore
        raise db_backup.BackupError(f"restored counts differ from the manifest: {differ}")
    if differ:  # pg_dump's snapshot vs. counts taken just after it on a serving instance
        _say(err, f"note: counts differ from those taken while the backup ran: {differ}")
    return counts


async def _refuse_unless_empty(url: str) -> None:
    if url.startswith("sqlite:") and not await asyncio.to_thread(Path(sqlite_path(url)).exists):
        return
    db = await open_database(url)
    try:
        held = await db_backup.holds_data(db)
    finally:
        await db.close()
    if held:
        raise BackupRefused(
            f"database.url: the database is not empty ({held}); restore needs an empty instance"
        )


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []


async def _copy_media_in(folder: Path, files: MediaFiles, err: TextIO) -> None:
    listing = await asyncio.to_thread(_files_under, folder)

    def copy(item: Path) -> None:
        relative = item.relative_to(folder).as_posix()
        if safe_path(relative):
            files.write(relative, item.read_bytes())

    await _in_threads(copy, listing, Progress("restoring media files", err))
