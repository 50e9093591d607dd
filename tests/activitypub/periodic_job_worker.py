"""One OS process of the fleet-wide job test: run a job through ``periodic.run_forever``.

Run as ``python periodic_job_worker.py DATABASE_URL OUT_FILE START_AT SECONDS EVERY``: waits
for START_AT (so the processes run together), then for SECONDS runs the loop that the queue
pruning runs, with a job of EVERY seconds' period that appends ``pid start_ms end_ms`` to
OUT_FILE (one write per line: the processes share the file).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from activitypub import periodic
from storage.ids import now_ms
from storage.store import Store


async def main(url: str, out: str, start_at: float, seconds: float, every: float) -> None:
    store = await Store.open(url, run_migrations=False)
    try:
        await store.claim_process_slot()
        delay = start_at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)

        async def job() -> None:
            started = now_ms()
            await asyncio.sleep(0.2)  # long enough for another process to try meanwhile
            line = f"{os.getpid()} {started} {now_ms()}\n".encode()
            fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(seconds, stop.set)
        await periodic.run_forever(store, "test_job", every, job, stop)
    finally:
        await store.close()


if __name__ == "__main__":
    url, out, start_at, seconds, every = sys.argv[1:6]
    asyncio.run(main(url, out, float(start_at), float(seconds), float(every)))
