"""Time-ordered 64-bit ids, Mastodon style: milliseconds since the epoch << 16 | sequence."""

from __future__ import annotations

import secrets
import threading
import time

_lock = threading.Lock()
_last_ms = 0
_seq = 0


def new_id(at_ms: int | None = None) -> int:
    """A new id; ids made later in one process sort after earlier ones."""
    global _last_ms, _seq
    with _lock:
        ms = int(time.time() * 1000) if at_ms is None else at_ms
        if at_ms is None:
            if ms <= _last_ms:
                ms = _last_ms
                _seq += 1
                if _seq > 0xFFFF:
                    ms += 1
                    _seq = 0
            else:
                # A random start keeps ids from several processes from colliding.
                _seq = secrets.randbelow(0x4000)
            _last_ms = ms
            return (ms << 16) | _seq
        return (ms << 16) | secrets.randbelow(0x10000)


def id_floor(ms: int) -> int:
    """The smallest id made at or after the millisecond ``ms`` (for time-based paging)."""
    return ms << 16


def ms_of(ident: int) -> int:
    return ident >> 16


def now_ms() -> int:
    return int(time.time() * 1000)


MAX_ID = 2**63 - 1
_MAX_ID_DIGITS = len(str(MAX_ID))


def parse_id(text: object) -> int | None:
    """An id as a client or peer wrote it (ASCII digits, or an integer) if it fits a row id
    (0 … 2^63 − 1, a BIGINT); ``None`` for anything else, so it names no row."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if 0 <= text <= MAX_ID else None
    if not isinstance(text, str) or not 0 < len(text) <= _MAX_ID_DIGITS:
        return None
    # str.isdigit() accepts "²" and "٣"; ids are ASCII digits only.
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_ID else None
