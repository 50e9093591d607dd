"""SIGKILL to a whole server: the supervisor of ``serve`` and its worker processes.

The workers of ``serve --workers N`` run in sessions of their own (so a terminal's Ctrl-C
reaches only the supervisor), so a signal to the supervisor's process group misses them.
``kill_tree`` finds every descendant first and kills them all at once, as when the machine
stops; ``wait_gone`` returns once none of them runs any more (the next server must not share
the port with a worker of the last one).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    """pid's fields after the command name (state, ppid, ...), or None when it is gone."""
    try:
        # pid (comm) state ppid pgrp ...; comm may hold spaces, so split after the last ")".
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(root: int) -> list[int]:
    """SIGKILL to ``root`` and every process below it; the pids killed."""
    pids = [root, *descendants(root)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return pids


def running(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie runs nothing


def wait_gone(pids: list[int], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(running(p) for p in pids):
        time.sleep(0.02)
