"""Where media files live: a local folder or an S3-compatible bucket, behind one Protocol.

Paths in the database are relative (``attachments/000/…/original.jpg``); a backend maps
them to a file or an object key. The methods block (file system or network): call them in
a thread (``asyncio.to_thread``), as the media services do. The S3 backend uses obstore
(Rust's object_store): ~25 ms and ~11 MB to import and open, against ~750 ms and ~50 MB
for aiobotocore (docs/operations.md), and it has a blocking and an async face.
"""

from __future__ import annotations

import functools
import mimetypes
import os
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from fedinode.config import Config, S3Config

if TYPE_CHECKING:
    from obstore.store import S3Store

# No empty, "." or ".." segment, no backslash or control character: a request path can
# never name anything outside the media (a folder, or the bucket's prefix).
_UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")
_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mov": "video/quicktime",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "weba": "audio/webm",
    "wav": "audio/wav",
    "flac": "audio/flac",
}


def safe_path(relative: str) -> bool:
    """Whether a relative media path is one we could have written (and may serve)."""
    if not relative or len(relative) > 1024 or _UNSAFE_CHARS.search(relative):
        return False
    return all(part not in ("", ".", "..") for part in relative.split("/"))


def content_type_for(relative: str) -> str:
    ext = relative.rsplit(".", 1)[-1].lower() if "." in relative else ""
    return _TYPES.get(ext) or mimetypes.guess_type(relative)[0] or "application/octet-stream"


@dataclass(frozen=True, slots=True)
class StoredFile:
    path: str  # relative, as the database keeps it
    size: int


class MediaFiles(Protocol):
    """Media files by relative path. Blocking: call the methods in a thread."""

    def write(self, relative: str, data: bytes) -> None: ...

    def read(self, relative: str) -> bytes | None:
        """The file's bytes, or None when it is missing."""
        ...

    def exists(self, relative: str) -> bool: ...

    def remove(self, relative: str) -> None:
        """Delete a file; a missing one is not an error."""
        ...

    def walk(self) -> Iterator[StoredFile]:
        """Every stored file (backups), in no particular order."""
        ...


def local_copy(files: MediaFiles, relative: str, folder: Path) -> Path | None:
    """A path on this machine holding the file (for programs such as ffmpeg): the file itself
    in a local folder, else a copy written into ``folder``; None when it is missing.
    Blocking: call it in a thread."""
    if isinstance(files, LocalMediaFiles):
        return files.resolve(relative)
    if not safe_path(relative):
        return None
    data = files.read(relative)
    if data is None:
        return None
    target = folder / ("source-" + relative.rsplit("/", 1)[-1])
    target.write_bytes(data)
    return target


class LocalMediaFiles:
    """The media directory: relative paths in the database, files under one root."""

    def __init__(self, directory: str) -> None:
        self.root = Path(directory)

    def write(self, relative: str, data: bytes) -> None:
        if not safe_path(relative):
            raise ValueError(f"not a media path: {relative!r}")
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)

    def resolve(self, relative: str) -> Path | None:
        """The file for a request path, or None when it is missing or outside the root."""
        if not relative or "\x00" in relative or "\\" in relative:
            return None
        root = self.root.resolve()
        try:
            target = (root / relative).resolve()
            if not target.is_relative_to(root) or target == root or not target.is_file():
                return None
        except (OSError, RuntimeError, ValueError):  # also a name too long for the file system
            return None
        return target

    def read(self, relative: str) -> bytes | None:
        found = self.resolve(relative)
        try:
            return None if found is None else found.read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, relative: str) -> bool:
        return self.resolve(relative) is not None

    def remove(self, relative: str) -> None:
        if relative:
            found = self.resolve(relative)
            if found is not None:
                found.unlink(missing_ok=True)

    def walk(self) -> Iterator[StoredFile]:
        if not self.root.is_dir():
            return
        for folder, _dirs, names in os.walk(self.root):
            for name in names:
                if name.endswith(".tmp"):
                    continue
                full = Path(folder) / name
                relative = full.relative_to(self.root).as_posix()
                try:
                    yield StoredFile(relative, full.stat().st_size)
                except FileNotFoundError:  # removed while we walked
                    continue


@dataclass(frozen=True, slots=True)
class ObjectRead:
    """An open read of (part of) an object: where it lies in the whole, and its bytes."""

    size: int  # of the whole object
    start: int
    end: int  # exclusive
    chunks: AsyncIterator[bytes]


class S3MediaFiles:
    """Media in an S3-compatible bucket (any endpoint: MinIO, Ceph, an in-country store)."""

    def __init__(self, settings: S3Config) -> None:
        self.settings = settings
        self.store = _s3_store(settings)
        self.prefix = settings.prefix.strip("/")

    def _key(self, relative: str) -> str:
        if not safe_path(relative):
            raise ValueError(f"not a media path: {relative!r}")
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def write(self, relative: str, data: bytes) -> None:
        import obstore

        obstore.put(
            self.store,
            self._key(relative),
            data,
            attributes={"Content-Type": content_type_for(relative)},
        )

    def read(self, relative: str) -> bytes | None:
        import obstore

        if not safe_path(relative):
            return None
        try:
            return bytes(obstore.get(self.store, self._key(relative)).bytes())
        except FileNotFoundError:
            return None

    def exists(self, relative: str) -> bool:
        import obstore

        if not safe_path(relative):
            return False
        try:
            obstore.head(self.store, self._key(relative))
        except FileNotFoundError:
            return False
        return True

    def remove(self, relative: str) -> None:
        import obstore

        if relative and safe_path(relative):
            try:
                obstore.delete(self.store, self._key(relative))
            except FileNotFoundError:
                pass

    def walk(self) -> Iterator[StoredFile]:
        import obstore

        skip = len(self.prefix) + 1 if self.prefix else 0
        for batch in obstore.list(self.store, prefix=self.prefix or None):
            for meta in batch:
                yield StoredFile(str(meta["path"])[skip:], int(meta["size"]))

    async def open_read(self, relative: str, byte_range: slice | None) -> ObjectRead | None:
        """Stream an object, or the part a Range header asked for (``request.http_range``);
        None when it is missing. A range past the end raises ``RangeNotSatisfiable``."""
        import obstore

        if not safe_path(relative):
            return None
        key = self._key(relative)
        try:
            if byte_range is None or (byte_range.start is None and byte_range.stop is None):
                result = await obstore.get_async(self.store, key)
            else:
                size = int((await obstore.head_async(self.store, key))["size"])
                start, end = _bounds(byte_range, size)
                result = await obstore.get_async(self.store, key, options={"range": (start, end)})
        except FileNotFoundError:
            return None
        start, end = result.range
        return ObjectRead(int(result.meta["size"]), start, end, _chunks(result))


class RangeNotSatisfiable(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _bounds(byte_range: slice, size: int) -> tuple[int, int]:
    start, stop = byte_range.start, byte_range.stop
    if start is not None and start < 0:  # bytes=-N: the last N bytes
        start, stop = max(0, size + start), size
    start = start or 0
    stop = size if stop is None else min(stop, size)
    if start >= size or start >= stop:
        raise RangeNotSatisfiable(size)
    return start, stop


async def _chunks(result: object) -> AsyncIterator[bytes]:
    async for chunk in result.stream(min_chunk_size=256 * 1024):  # type: ignore[attr-defined]
        yield bytes(chunk)


@functools.lru_cache(maxsize=8)
def _s3_store(settings: S3Config) -> S3Store:
    # One client (and connection pool) per bucket settings for the process. Making it does
    # no I/O: the first request connects.
    from obstore.store import S3Store

    options: dict[str, object] = {}
    credentials: dict[str, str] = {}
    if settings.endpoint:
        options["endpoint"] = settings.endpoint.rstrip("/")
    if settings.access_key:
        credentials = {
            "access_key_id": settings.access_key,
            "secret_access_key": settings.secret_key,
        }
    return S3Store(
        settings.bucket,
        region=settings.region,
        virtual_hosted_style_request=False,  # path style: what MinIO/Ceph-style stores take
        client_options={"allow_http": settings.endpoint.startswith("http://")},
        **options,  # type: ignore[arg-type]
        **credentials,  # type: ignore[arg-type]
    )


def media_files(config: Config) -> MediaFiles:
    """The configured media backend (``[media] backend``)."""
    if config.media.backend == "s3":
        return S3MediaFiles(config.media.s3)
    return LocalMediaFiles(config.media.directory)
