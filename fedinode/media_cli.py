"""``fedinode media …``: operator commands for stored media."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from fedinode.config import Config
from fedinode.services.media_cache import prune
from storage.store import Store

BAR_WIDTH = 30


class Progress:
    """A bar redrawn in place on a terminal; plain lines (at most one per ``every``
    seconds, plus the last) when the output is a file or a pipe."""

    def __init__(self, label: str, out: TextIO | None = None, *, every: float = 2.0) -> None:
        self.label = label
        self.out = out if out is not None else sys.stderr
        self.tty = self.out.isatty()
        self.every = every
        self._last: float | None = None

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        last = done >= total
        recent = self._last is not None and now - self._last < (0.1 if self.tty else self.every)
        if recent and not last:
            return
        if self.tty:
            filled = BAR_WIDTH * done // total if total else BAR_WIDTH
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            self.out.write(f"\r{self.label} [{bar}] {done}/{total}")
            if last:
                self.out.write("\n")
            self.out.flush()
        else:
            self.out.write(f"{self.label}: {done}/{total}\n")
            self.out.flush()
        self._last = now


async def prune_cache(config: Config, older_than_days: float, *, out: TextIO | None = None) -> int:
    """Evict cached remote media not served for ``older_than_days``; statuses and accounts
    show the remote URLs again."""
    store = await Store.open(
        config.database.url, events_url=config.events.url, events_prefix=config.events_prefix
    )
    try:
        count, freed = await prune(
            store, config, older_than_days, progress=Progress("pruning cached media", out)
        )
    finally:
        await store.close()
    print(f"pruned {count} cached remote file(s), {freed} bytes freed")
    return 0
