"""Tests that run ffmpeg: skipped (saying why) where it is not installed, unless
``FEDINODE_TEST_REQUIRE_FFMPEG`` is set (CI), where a missing ffmpeg fails them."""

from __future__ import annotations

import os
import shutil

import pytest

HAVE_FFMPEG = bool(shutil.which("ffmpeg") and shutil.which("ffprobe"))
if not HAVE_FFMPEG and os.environ.get("FEDINODE_TEST_REQUIRE_FFMPEG"):
    raise RuntimeError("FEDINODE_TEST_REQUIRE_FFMPEG is set but ffmpeg/ffprobe are not on PATH")

needs_ffmpeg = pytest.mark.skipif(
    not HAVE_FFMPEG, reason="ffmpeg is not installed (Debian: apt-get install ffmpeg)"
)
