"""SIGKILL to a whole server: the supervisor of ``serve`` and its worker processes.

A server started with ``start_new_session=True`` leads its own process group, so one
``killpg`` stops all of it at once, as when the machine stops.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def wait_group_gone(pgid: int, within: float = 10.0) -> None:
    """Until no process of the group is left (the next server must not share the port)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and group_alive(pgid):
        time.sleep(0.02)


def group_alive(pgid: int) -> bool:
    """Whether a process of the group is still running (zombies do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            # pid (comm) state ppid pgrp ...; comm may hold spaces, so split after ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False
