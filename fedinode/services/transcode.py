"""ffprobe and ffmpeg, run as subprocesses on files we hold: probe an upload, transcode it
to what every app plays (H.264/AAC MP4, MP3 or Opus), take a first-frame thumbnail.

Every run is bounded: a time limit (killed when over), an output size cap (``-fs``,
checked afterwards since ffmpeg stops quietly there), a duration cap (``-t``), no network
and no file but the one named (``-protocol_whitelist file,pipe``; only container formats
on ``FORMAT_WHITELIST`` are opened, so a playlist cannot pull in other files)."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedinode.config import MediaConfig
from fedinode.errors import ValidationFailed

# Demuxers ffmpeg may use on an upload. Playlists and references (hls, concat, dash,
# image2 patterns) are left out: they open further files or URLs.
FORMAT_WHITELIST = ",".join((
    "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "gif", "mp3", "ogg", "wav", "flac",
    "aac", "mpegts", "mpeg", "asf", "flv", "caf", "amr", "aiff", "w64",
))  # fmt: skip
_SAFE_INPUT = ("-protocol_whitelist", "file,pipe", "-format_whitelist", FORMAT_WHITELIST)
PROBE_TIMEOUT_SECONDS = 30.0
AUDIO_BITRATE = "128k"

VIDEO, GIFV, AUDIO = "video", "gifv", "audio"


class ProcessingFailed(ValidationFailed):
    """The file cannot be used: its reason is shown to the uploader."""


@dataclass(frozen=True, slots=True)
class Probe:
    format_name: str
    duration: float | None
    bitrate: int | None
    width: int | None
    height: int | None
    frame_rate: str | None  # "30/1", as ffprobe gives it
    audio_codec: str | None
    audio_sample_rate: int | None
    audio_channels: str | None

    @property
    def has_video(self) -> bool:
        return self.width is not None and self.height is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None

    @property
    def fps(self) -> int | None:
        if not self.frame_rate:
            return None
        # Here, not at the top: fractions brings decimal (~0.4 MB) into every process.
        from fractions import Fraction

        try:
            rate = Fraction(self.frame_rate)
        except (ValueError, ZeroDivisionError):
            return None
        return round(rate) if rate > 0 else None


@dataclass(frozen=True, slots=True)
class Output:
    path: Path
    content_type: str
    extension: str


async def _run(argv: list[str], *, limit_seconds: float, what: str) -> bytes:
    """Run one program; its stdout, or ProcessingFailed naming what went wrong."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        )
    except FileNotFoundError:
        raise ProcessingFailed(
            f"Video and audio cannot be processed here ({argv[0]} is not installed)"
        ) from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit_seconds)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise ProcessingFailed(f"{what} took longer than {limit_seconds:g} seconds") from None
    if proc.returncode != 0:
        lines = [ln for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
        detail = lines[-1] if lines else f"exit status {proc.returncode}"
        for arg in argv[1:]:  # our temporary paths are nobody's business
            if arg.startswith("/"):
                detail = detail.replace(arg, Path(arg).name)
        detail = detail[:200]
        raise ProcessingFailed(f"{what} failed: {detail}")
    return out


def _num(value: Any, kind: type[int] | type[float]) -> Any:
    try:
        return kind(float(value)) if kind is int else float(value)
    except (TypeError, ValueError):
        return None


def probe_from_json(doc: dict[str, Any]) -> Probe:
    fmt = doc.get("format") if isinstance(doc.get("format"), dict) else {}
    assert isinstance(fmt, dict)
    video: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    for stream in doc.get("streams") or ():
        if not isinstance(stream, dict):
            continue
        disposition = stream.get("disposition") or {}
        if stream.get("codec_type") == "video" and video is None:
            if not disposition.get("attached_pic"):  # cover art of an audio file
                video = stream
        elif stream.get("codec_type") == "audio" and audio is None:
            audio = stream
    width = _num(video.get("width"), int) if video else None
    height = _num(video.get("height"), int) if video else None
    if not width or not height or width <= 0 or height <= 0:
        width = height = None
    rate = None
    if video:
        rate = str(video.get("avg_frame_rate") or "") or str(video.get("r_frame_rate") or "")
        if rate in ("0/0", ""):
            rate = str(video.get("r_frame_rate") or "") or None
    duration = _num(fmt.get("duration"), float)
    return Probe(
        format_name=str(fmt.get("format_name") or ""),
        duration=duration if duration is not None and duration >= 0 else None,
        bitrate=_num(fmt.get("bit_rate"), int),
        width=width,
        height=height,
        frame_rate=rate,
        audio_codec=str(audio.get("codec_name")) if audio else None,
        audio_sample_rate=_num(audio.get("sample_rate"), int) if audio else None,
        audio_channels=str(audio.get("channel_layout") or audio.get("channels") or "")
        if audio
        else None,
    )


async def probe(cfg: MediaConfig, path: Path) -> Probe:
    out = await _run(
        [cfg.ffprobe, "-v", "error", *_SAFE_INPUT, "-of", "json", "-show_format",
         "-show_streams", str(path)],
        limit_seconds=PROBE_TIMEOUT_SECONDS,
        what="Reading the file",
    )  # fmt: skip
    try:
        doc = json.loads(out)
    except ValueError:
        raise ProcessingFailed("The file could not be read as video or audio") from None
    if not isinstance(doc, dict):
        raise ProcessingFailed("The file could not be read as video or audio")
    return probe_from_json(doc)


def kind_of(cfg: MediaConfig, found: Probe) -> str:
    """video | gifv | audio for a probed upload; ProcessingFailed when it is none of them."""
    if found.duration is not None and found.duration > cfg.video_max_seconds:
        raise ProcessingFailed(
            f"Validation failed: the file is longer than {cfg.video_max_seconds} seconds"
        )
    if found.width and found.height and found.width * found.height > cfg.max_image_pixels:
        raise ProcessingFailed(
            f"Validation failed: video dimensions exceed the limit of {cfg.max_image_pixels} pixels"
        )
    if found.format_name == "gif" and found.has_video:
        return GIFV
    if found.has_video:
        return VIDEO
    if found.has_audio:
        return AUDIO
    raise ProcessingFailed("Validation failed: the file holds no video or audio")


def _video_filter(cfg: MediaConfig) -> str:
    side = cfg.video_max_dimension
    # Fit within side×side keeping the aspect ratio, then even sizes (H.264's 4:2:0 needs them).
    return (
        f"scale=w='min(iw,{side})':h='min(ih,{side})':force_original_aspect_ratio=decrease,"
        "scale=trunc(iw/2)*2:trunc(ih/2)*2"
    )


def _ffmpeg(cfg: MediaConfig, src: Path) -> list[str]:
    return [cfg.ffmpeg, "-v", "error", "-nostdin", "-y", *_SAFE_INPUT, "-i", str(src),
            "-threads", str(cfg.transcode_threads), "-map_metadata", "-1"]  # fmt: skip


async def transcode(cfg: MediaConfig, kind: str, src: Path, out_dir: Path) -> Output:
    """Transcode ``src`` into ``out_dir``; the output is within the configured caps."""
    kbps = cfg.video_max_bitrate_kbps
    caps = ["-t", str(cfg.video_max_seconds), "-fs", str(cfg.video_max_bytes)]
    if kind in (VIDEO, GIFV):
        out = Output(out_dir / "original.mp4", "video/mp4", "mp4")
        audio = ["-an"] if kind == GIFV else ["-map", "0:a:0?", "-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ac", "2"]  # fmt: skip
        argv = [*_ffmpeg(cfg, src), "-map", "0:v:0", *audio, "-c:v", "libx264",
                "-preset", "veryfast", "-crf", "23", "-maxrate", f"{kbps}k",
                "-bufsize", f"{2 * kbps}k", "-pix_fmt", "yuv420p", "-vf", _video_filter(cfg),
                "-fpsmax", str(cfg.video_max_fps), "-movflags", "+faststart", *caps,
                "-f", "mp4", str(out.path)]  # fmt: skip
    elif cfg.audio_format == "opus":
        out = Output(out_dir / "original.ogg", "audio/ogg", "ogg")
        argv = [*_ffmpeg(cfg, src), "-vn", "-map", "0:a:0", "-c:a", "libopus", "-b:a",
                AUDIO_BITRATE, *caps, "-f", "ogg", str(out.path)]  # fmt: skip
    else:
        out = Output(out_dir / "original.mp3", "audio/mpeg", "mp3")
        argv = [*_ffmpeg(cfg, src), "-vn", "-map", "0:a:0", "-c:a", "libmp3lame", "-q:a", "2",
                *caps, "-f", "mp3", str(out.path)]  # fmt: skip
    await _run(argv, limit_seconds=cfg.transcode_timeout_seconds, what="Transcoding")
    size = out.path.stat().st_size if out.path.exists() else 0
    if size == 0:
        raise ProcessingFailed("Transcoding produced no output")
    if size >= cfg.video_max_bytes:
        raise ProcessingFailed(
            f"Validation failed: the transcoded file exceeds {cfg.video_max_bytes} bytes"
        )
    return out


async def first_frame(cfg: MediaConfig, src: Path, out_dir: Path) -> bytes:
    """The first frame of a (transcoded) video as JPEG."""
    target = out_dir / "frame.jpg"
    await _run(
        [*_ffmpeg(cfg, src), "-map", "0:v:0", "-frames:v", "1", "-an", "-c:v", "mjpeg",
         "-q:v", "3", "-fs", "10000000", "-f", "image2", str(target)],
        limit_seconds=PROBE_TIMEOUT_SECONDS,
        what="Taking a thumbnail",
    )  # fmt: skip
    try:
        return target.read_bytes()
    except OSError:
        raise ProcessingFailed("Taking a thumbnail produced no picture") from None
