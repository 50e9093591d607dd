"""Video, audio and animated GIF uploads: accepted at once, transcoded by a worker.

``upload_any`` takes every upload: still images are processed on the spot, as before
(``services.media``); anything else is probed with ffprobe right away, so a file that is
no video or audio is refused with 422 while the client waits, then stored as it came
(under the media directory, through ``MediaFiles``) with a ``media_processing`` job.
``MediaProcessor`` (worker and all roles, and inline for ``/api/v1/media``) transcodes it
(``services.transcode``), takes the first frame as thumbnail and blurhash, writes the
files and ``meta`` onto the attachment and deletes the job; a failure leaves the job
``failed`` with its reason. Until then the attachment has no ``url``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedinode.config import Config
from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services import transcode
from fedinode.services.media import (
    FORMATS,
    Processed,
    Upload,
    _folder,
    check_description,
    owned_unattached,
    process_image,
    store_image,
    update_media,
)
from fedinode.services.media_files import local_copy, media_files
from fedinode.services.transcode import AUDIO, GIFV, VIDEO, Probe, ProcessingFailed
from storage.ids import now_ms
from storage.media import CUSTOM_THUMBNAIL, NewMedia
from storage.media_jobs import FAILED, MediaJob, ProcessedMedia
from storage.models import Account, MediaAttachment
from storage.store import Store

log = logging.getLogger("fedinode.media")

IDLE_SECONDS = 2.0
BATCH = 1  # jobs per claim: transcoding is CPU-bound, one after the other
MAX_ATTEMPTS = 3  # unexpected errors (not a bad file) before a job fails
NOT_READY = "Cannot attach files that have not finished processing. Try again in a moment!"


@dataclass(frozen=True, slots=True)
class Uploaded:
    media: MediaAttachment
    processing: bool  # True: a job will finish it (answer 202 / 206)


def _read_limited(upload: Upload, max_bytes: int) -> bytes:
    data = upload.file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationFailed(f"File is too large (the limit is {max_bytes} bytes)")
    if not data:
        raise ValidationFailed("Validation failed: File is empty")
    return data


def is_still_image(data: bytes) -> bool:
    """True for a picture Pillow handles as an image upload (an animated GIF is not one:
    it becomes a silent looping video, ``gifv``, as on Mastodon)."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS:
                return False
            if image.format == "GIF":
                return int(getattr(image, "n_frames", 1)) <= 1
            return True
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, EOFError):
        return False


async def upload_any(
    store: Store,
    config: Config,
    account: Account,
    upload: Upload,
    *,
    description: str | None = None,
    focus: tuple[float, float] | None = None,
    thumbnail: Upload | None = None,
) -> Uploaded:
    """Store an upload: an image processed now, video/audio/GIF queued for transcoding;
    ``thumbnail`` (video and audio only) is the app's own preview picture."""
    description = check_description(description)
    limit = max(config.server.max_media_bytes, config.media.video_max_bytes)
    data = await asyncio.to_thread(_read_limited, upload, limit)
    if await asyncio.to_thread(is_still_image, data):
        if thumbnail is not None:
            raise ValidationFailed(NOT_FOR_IMAGES)
        if len(data) > config.server.max_media_bytes:
            raise ValidationFailed(
                f"File is too large (the limit is {config.server.max_media_bytes} bytes)"
            )
        media = await store_image(
            store, config, account, data, description=description, focus=focus
        )
        return Uploaded(media=media, processing=False)
    with tempfile.TemporaryDirectory(prefix="fedinode-upload-") as tmp:
        source = Path(tmp) / "source"
        await asyncio.to_thread(source.write_bytes, data)
        try:
            kind = transcode.kind_of(config.media, await transcode.probe(config.media, source))
        except ProcessingFailed as exc:
            if "Validation failed" in str(exc):
                raise
            raise ValidationFailed(
                f"Validation failed: File content type is invalid ({exc})"
            ) from None
    thumb = None if thumbnail is None else await prepare_thumbnail(config, thumbnail)
    folder = f"attachments/{_folder(account.id)}/{secrets.token_hex(8)}"
    source_path = f"{folder}/source"
    await asyncio.to_thread(media_files(config).write, source_path, data)
    fx, fy = focus or (0.0, 0.0)
    media = await store.media_jobs.create(
        NewMedia(
            account_id=account.id,
            type=kind,
            description=description or "",
            focus_x=fx,
            focus_y=fy,
        ),
        kind=kind,
        source_path=source_path,
    )
    if thumb is not None:
        media = await attach_thumbnail(store, config, media, thumb)
    return Uploaded(media=media, processing=True)


NOT_FOR_IMAGES = "Validation failed: a thumbnail can only be set for video and audio"


async def prepare_thumbnail(config: Config, upload: Upload) -> Processed:
    """Check and re-encode an app's thumbnail (an image upload's limits apply)."""
    data = await asyncio.to_thread(_read_limited, upload, config.server.max_media_bytes)
    cfg = config.media
    return await asyncio.to_thread(
        process_image, data, max_pixels=cfg.max_image_pixels, thumbnail_size=cfg.thumbnail_size
    )


async def attach_thumbnail(
    store: Store, config: Config, media: MediaAttachment, thumb: Processed
) -> MediaAttachment:
    """Make ``thumb`` the preview (and blurhash) of a video or audio attachment, in place of
    its first frame or an earlier thumbnail, whose file is removed; also while processing."""
    if media.type not in (VIDEO, GIFV, AUDIO):
        raise ValidationFailed(NOT_FOR_IMAGES)
    files = media_files(config)
    folder = f"attachments/{_folder(media.account_id)}/{secrets.token_hex(8)}"
    path = f"{folder}/{CUSTOM_THUMBNAIL}.{thumb.small_extension}"
    await asyncio.to_thread(files.write, path, thumb.small)
    done = await store.media.set_thumbnail(
        media.id,
        preview_path=path,
        blurhash=thumb.blurhash,
        small={"width": thumb.small_width, "height": thumb.small_height},
    )
    if done is None:
        await asyncio.to_thread(files.remove, path)
        raise NotFoundError()
    updated, replaced = done
    if replaced:
        await asyncio.to_thread(files.remove, replaced)
    return updated


async def update_upload(
    store: Store,
    config: Config,
    account: Account,
    media_id: int | None,
    *,
    description: str | None,
    focus: tuple[float, float] | None,
    thumbnail: Upload | None,
) -> MediaAttachment:
    """PUT /api/v1/media/:id: description, focus and (video and audio) the thumbnail."""
    media = await owned_unattached(store, account, media_id)
    thumb = None
    if thumbnail is not None:
        if media.type not in (VIDEO, GIFV, AUDIO):
            raise ValidationFailed(NOT_FOR_IMAGES)
        thumb = await prepare_thumbnail(config, thumbnail)
    media = await update_media(store, account, media.id, description=description, focus=focus)
    if thumb is not None:
        media = await attach_thumbnail(store, config, media, thumb)
    return media


def _length(seconds: float) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{int(hours)}:{int(minutes):02d}:{secs:05.2f}"


def av_meta(kind: str, found: Probe, small: tuple[int, int] | None) -> dict[str, Any]:
    """What is stored as ``meta`` of a transcoded file, in Mastodon's shape: ``length``,
    ``duration``, ``fps``, ``size``, ``width``, ``height``, ``aspect``, ``audio_*`` at the top,
    ``original`` (with ``frame_rate``, ``duration``, ``bitrate``) and ``small``."""
    meta: dict[str, Any] = {}
    original: dict[str, Any] = {}
    if found.duration is not None:
        meta["length"] = _length(found.duration)
        meta["duration"] = round(found.duration, 3)
        original["duration"] = round(found.duration, 3)
    if found.bitrate:
        original["bitrate"] = found.bitrate
    if kind in (VIDEO, GIFV) and found.width and found.height:
        w, h = found.width, found.height
        if found.fps is not None:
            meta["fps"] = found.fps
        meta.update(size=f"{w}x{h}", width=w, height=h, aspect=round(w / h, 6))
        original.update(width=w, height=h)
        if found.frame_rate:
            original["frame_rate"] = found.frame_rate
    if found.has_audio and kind != GIFV:
        meta["audio_encode"] = found.audio_codec
        if found.audio_sample_rate:
            meta["audio_bitrate"] = f"{found.audio_sample_rate} Hz"
        if found.audio_channels:
            meta["audio_channels"] = found.audio_channels
    meta["original"] = original
    if small is not None:
        meta["small"] = {"width": small[0], "height": small[1]}
    return meta


async def _process(
    config: Config, job: MediaJob, source: Path, work: Path
) -> tuple[ProcessedMedia, dict[str, bytes]]:
    """Transcode one upload; returns the attachment's new state and the files to write."""
    cfg = config.media
    kind = transcode.kind_of(cfg, await transcode.probe(cfg, source))
    if kind != job.kind:
        raise ProcessingFailed("Validation failed: the file changed type while processing")
    out = await transcode.transcode(cfg, kind, source, work)
    result = await transcode.probe(cfg, out.path)
    folder = job.source_path.rsplit("/", 1)[0]
    body = await asyncio.to_thread(out.path.read_bytes)
    files = {f"{folder}/original.{out.extension}": body}
    preview_path = ""
    blurhash = None
    small: tuple[int, int] | None = None
    if kind in (VIDEO, GIFV):
        frame = await transcode.first_frame(cfg, out.path, work)
        thumb = await asyncio.to_thread(
            process_image, frame, max_pixels=cfg.max_image_pixels, thumbnail_size=cfg.thumbnail_size
        )
        preview_path = f"{folder}/small.{thumb.small_extension}"
        files[preview_path] = thumb.small
        blurhash = thumb.blurhash
        small = (thumb.small_width, thumb.small_height)
    done = ProcessedMedia(
        content_type=out.content_type,
        file_path=f"{folder}/original.{out.extension}",
        preview_path=preview_path,
        blurhash=blurhash,
        meta=av_meta(kind, result, small),
        size=len(body),
    )
    return done, files


class MediaProcessor:
    """Runs media processing jobs: in the background, and on request for one upload."""

    def __init__(self, store: Store, config: Config) -> None:
        self.store = store
        self.config = config
        self.files = media_files(config)
        self._wake = asyncio.Event()
        # One ffmpeg job at a time per process: background jobs and /api/v1/media uploads
        # queue here rather than share the cores the web answers need.
        self._one_at_a_time = asyncio.Semaphore(1)
        cfg = config.media
        # Long enough for every ffmpeg run of one job; a dead worker's job waits this long.
        self.lease_ms = int((3 * cfg.transcode_timeout_seconds + 4 * 30 + 60) * 1000)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                done = await self.run_once()
            except Exception:
                log.exception("media processing round failed")
                done = 0
            if not done:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), IDLE_SECONDS)
                except TimeoutError:
                    pass

    async def run_once(self) -> int:
        jobs = await self.store.media_jobs.claim(BATCH, lease_ms=self.lease_ms)
        for job in jobs:
            await self.handle(job)
        return len(jobs)

    async def drain(self) -> int:
        total = 0
        while n := await self.run_once():
            total += n
        return total

    async def process_now(self, media_id: int) -> MediaAttachment:
        """Process one upload while the client waits (``/api/v1/media``)."""
        for job in await self.store.media_jobs.claim(1, lease_ms=self.lease_ms, media_id=media_id):
            await self.handle(job)
        return await ready_media(self.store, media_id)

    async def handle(self, job: MediaJob) -> None:
        async with self._one_at_a_time:
            await self._handle(job)

    async def _handle(self, job: MediaJob) -> None:
        written: list[str] = []
        try:
            with tempfile.TemporaryDirectory(prefix="fedinode-media-") as tmp:
                source = await asyncio.to_thread(local_copy, self.files, job.source_path, Path(tmp))
                if source is None:
                    await self.store.media_jobs.fail(job, "The uploaded file is gone")
                    return
                done, outputs = await _process(self.config, job, source, Path(tmp))
            for relative, body in outputs.items():
                await asyncio.to_thread(self.files.write, relative, body)
                written.append(relative)
        except ProcessingFailed as exc:
            log.info("media %d could not be processed: %s", job.media_id, exc)
            await self.store.media_jobs.fail(job, str(exc))
            await asyncio.to_thread(self.files.remove, job.source_path)
            return
        except Exception as exc:
            log.exception("processing media %d failed", job.media_id)
            for relative in written:
                await asyncio.to_thread(self.files.remove, relative)
            if job.attempts >= MAX_ATTEMPTS:
                await self.store.media_jobs.fail(job, "The file could not be processed")
            else:
                retry_at = now_ms() + 60_000 * job.attempts
                await self.store.media_jobs.retry(job, repr(exc), retry_at=retry_at)
            return
        finished = await self.store.media_jobs.finish(job, done)
        if finished is None:  # deleted meanwhile
            for relative in written:
                await asyncio.to_thread(self.files.remove, relative)
        elif done.preview_path and finished.preview_path != done.preview_path:
            # The app's own thumbnail stayed; the first frame is not needed.
            await asyncio.to_thread(self.files.remove, done.preview_path)
        await asyncio.to_thread(self.files.remove, job.source_path)


async def ready_media(store: Store, media_id: int) -> MediaAttachment:
    """The attachment once processed; ProcessingFailed with the reason when it failed."""
    job = await store.media_jobs.get(media_id)
    if job is not None and job.state == FAILED:
        raise ProcessingFailed(_failure(job))
    media = await store.media.get(media_id)
    if media is None:
        raise ValidationFailed("Validation failed: media not found")
    return media


def _failure(job: MediaJob) -> str:
    reason = job.last_error or "unknown error"
    if reason.startswith("Validation failed: "):
        reason = reason[len("Validation failed: ") :]
    return f"Validation failed: the file could not be processed: {reason}"


async def media_state(store: Store, media: MediaAttachment) -> str:
    """``ready``, ``processing`` or the failure's message."""
    job = await store.media_jobs.get(media.id)
    if job is None:
        return "ready"
    if job.state == FAILED:
        return _failure(job)
    return "processing"


@dataclass(frozen=True, slots=True)
class Described:
    """What ffprobe and the first frame tell of a cached remote video or audio file."""

    meta: dict[str, Any]
    preview_path: str
    blurhash: str | None
    preview_bytes: int


async def describe_cached(config: Config, file_path: str, content_type: str) -> Described | None:
    """A cached remote video or audio file read with ffprobe (its thumbnail written beside
    it): what ``CachedFiles`` needs, or None when it cannot be read (the peer's meta stays)."""
    kind = VIDEO if content_type.startswith("video/") else transcode.AUDIO
    files = media_files(config)
    cfg = config.media
    try:
        with tempfile.TemporaryDirectory(prefix="fedinode-media-") as tmp:
            source = await asyncio.to_thread(local_copy, files, file_path, Path(tmp))
            if source is None:
                return None
            found = await transcode.probe(cfg, source)
            preview_path, blurhash, small, extra = "", None, None, 0
            if kind == VIDEO and found.has_video:
                frame = await transcode.first_frame(cfg, source, Path(tmp))
                thumb = await asyncio.to_thread(
                    process_image, frame, max_pixels=cfg.max_image_pixels,
                    thumbnail_size=cfg.thumbnail_size,
                )  # fmt: skip
                preview_path = f"{file_path.rsplit('/', 1)[0]}/small.{thumb.small_extension}"
                await asyncio.to_thread(files.write, preview_path, thumb.small)
                blurhash, small = thumb.blurhash, (thumb.small_width, thumb.small_height)
                extra = len(thumb.small)
    except ValidationFailed as exc:
        log.info("cached %s not described: %s", file_path, exc)
        return None
    return Described(av_meta(kind, found, small), preview_path, blurhash, extra)


async def remove_job_source(store: Store, config: Config, media_id: int) -> None:
    """Delete the kept upload of an attachment still (or never) processed."""
    job = await store.media_jobs.get(media_id)
    if job is not None:
        await asyncio.to_thread(media_files(config).remove, job.source_path)
