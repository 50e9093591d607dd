"""Time-ordered 64-bit ids, Mastodon style: milliseconds since the epoch << 16 | low bits.

The 16 low bits are the process's id slot (``SLOT_BITS``) and a sequence within the
millisecond (``SEQUENCE_BITS``: 128 ids a millisecond, then the next one is borrowed). Each process sharing a database holds its own slot
(``storage.slots`` claims one when the store opens: a PostgreSQL advisory lock, a lock file
next to a SQLite database), so two processes never make the same id, and the ids one
process makes keep increasing. A process that never claims a slot (a test, a script) draws
one at random, as the old ids drew their low bits.
"""

from __future__ import annotations

import secrets
import threading
import time

SLOT_BITS = 8
SEQUENCE_BITS = 16 - SLOT_BITS
SLOTS = 1 << SLOT_BITS  # processes that can make ids against one database at once
_SEQ_LIMIT = 1 << SEQUENCE_BITS
_NOW_LIMIT = _SEQ_LIMIT // 2  # sequences below this: ids made now; above: back-dated

_lock = threading.Lock()
_last_ms = 0
_seq = 0
_slot: int | None = None
# Back-dated ids handed out lately, per millisecond: the next free sequence number.
_backdated: dict[int, int] = {}
_BACKDATED_KEPT = 65_536


def set_slot(slot: int | None) -> None:
    """Make ids in slot ``slot`` from now on (``None``: a random one, chosen at next use)."""
    global _slot
    if slot is not None and not 0 <= slot < SLOTS:
        raise ValueError(f"id slot must be in 0..{SLOTS - 1}, got {slot}")
    with _lock:
        _slot = slot


def current_slot() -> int:
    """The slot this process makes ids in."""
    global _slot
    with _lock:
        if _slot is None:
            _slot = secrets.randbelow(SLOTS)
        return _slot


def new_id(at_ms: int | None = None) -> int:
    """A new id; ids made later in one process sort after earlier ones.

    ``at_ms`` back-dates the id (a remote status's publication time). Back-dated ids take
    the upper half of the sequence, so they never meet the ids made "now"; they are unique
    across processes (slot bits) and, within one process, among the last 65,536
    milliseconds they were made for (beyond that the sequence starts at random).
    """
    global _last_ms, _seq, _slot
    with _lock:
        if _slot is None:
            _slot = secrets.randbelow(SLOTS)
        high = _slot << SEQUENCE_BITS
        if at_ms is None:
            ms = int(time.time() * 1000)
            if ms <= _last_ms:
                ms = _last_ms
                _seq += 1
                if _seq >= _NOW_LIMIT:  # a full millisecond: borrow the next one
                    ms += 1
                    _seq = 0
            else:
                _seq = 0
            _last_ms = ms
            return (ms << 16) | high | _seq
        ms = at_ms
        while True:
            seq = _backdated.get(ms)
            if seq is None:
                seq = _NOW_LIMIT + secrets.randbelow(_NOW_LIMIT // 2)
            elif seq >= _SEQ_LIMIT:
                ms += 1  # every back-dated sequence of this millisecond is used
                continue
            if len(_backdated) >= _BACKDATED_KEPT and ms not in _backdated:
                _backdated.pop(next(iter(_backdated)))
            _backdated[ms] = seq + 1
            return (ms << 16) | high | seq


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
