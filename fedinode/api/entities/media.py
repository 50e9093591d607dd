"""MediaAttachment and its ``meta``."""

# No ``from __future__ import annotations``: TypedDict reads NotRequired from evaluated
# annotations (``__optional_keys__``), which the tests compare with the JSON sent.
from typing import NotRequired, TypedDict


class MediaSize(TypedDict):
    width: int
    height: int
    size: str
    aspect: float
    # Video and GIF (``original``): as ffprobe measured the transcoded file.
    frame_rate: NotRequired[str]
    duration: NotRequired[float]
    bitrate: NotRequired[int]


class MediaAudioOriginal(TypedDict):
    """``original`` of audio: no picture, only time."""

    duration: NotRequired[float]
    bitrate: NotRequired[int]


class MediaFocus(TypedDict):
    x: float
    y: float


class MediaMeta(TypedDict):
    original: NotRequired[MediaSize | MediaAudioOriginal]
    small: NotRequired[MediaSize]
    focus: NotRequired[MediaFocus | None]
    # Video, GIF (gifv) and audio, as Mastodon gives them.
    length: NotRequired[str]
    duration: NotRequired[float]
    fps: NotRequired[int]
    size: NotRequired[str]
    width: NotRequired[int]
    height: NotRequired[int]
    aspect: NotRequired[float]
    audio_encode: NotRequired[str]
    audio_bitrate: NotRequired[str]
    audio_channels: NotRequired[str]


class MediaAttachment(TypedDict):
    id: str
    type: str
    url: str | None
    preview_url: str | None
    remote_url: str | None
    preview_remote_url: str | None
    text_url: str | None
    meta: MediaMeta | None
    description: str | None
    blurhash: str | None
