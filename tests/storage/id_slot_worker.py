"""One OS process of the id uniqueness test: claim a slot, make ids, store them.

Run as ``python id_slot_worker.py DATABASE_URL OUT_FILE START_AT COUNT``: opens the store,
claims an id slot, waits for START_AT (so the processes run together), makes COUNT ids
with ``new_id()``, inserts them into ``id_probe`` (a primary key: a duplicate from any
process fails the insert) and writes them, one a line, to OUT_FILE.
"""

from __future__ import annotations

import asyncio
import sys
import time

from storage.ids import current_slot, new_id
from storage.store import Store


async def main(url: str, start_at: float, count: int) -> tuple[int, list[int]]:
    store = await Store.open(url, run_migrations=False)
    try:
        claim = await store.claim_process_slot()
        delay = start_at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        made: list[int] = []
        while len(made) < count:  # paced over a second or so, for the runs to overlap
            made += [new_id() for _ in range(min(1000, count - len(made)))]
            await asyncio.sleep(0.02)
        for start in range(0, count, 5000):
            await store.db.executemany(
                "INSERT INTO id_probe (id) VALUES ($1)", [(i,) for i in made[start : start + 5000]]
            )
        assert current_slot() == claim.slot
        return claim.slot, made
    finally:
        await store.close()


if __name__ == "__main__":
    slot, made = asyncio.run(main(sys.argv[1], float(sys.argv[3]), int(sys.argv[4])))
    with open(sys.argv[2], "w") as fh:
        fh.write(f"slot {slot} {slot}\n")
        fh.write("\n".join(map(str, made)))
