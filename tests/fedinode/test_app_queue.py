"""The application holds an id slot while it runs and leases queue rows under its name, for
the lease lengths [queue] sets; on each backend."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from fedinode import appkeys
from fedinode.app import create_app
from fedinode.config import QueueConfig, load_config
from storage import ids
from storage.slots import slot_is_held


async def test_the_app_claims_a_slot_and_uses_the_queue_settings(
    aiohttp_client: Any, database_url: str, tmp_path: Path
) -> None:
    raw = load_config(None, environ={})
    config = dataclasses.replace(
        raw,
        database=dataclasses.replace(raw.database, url=database_url),
        media=dataclasses.replace(raw.media, directory=str(tmp_path / "media")),
        queue=QueueConfig(inbox_lease_seconds=30, delivery_lease_seconds=90),
    )
    client = await aiohttp_client(create_app(config))
    store = client.app[appkeys.STORE]
    assert store.slot is not None
    slot = store.slot.slot
    assert await slot_is_held(database_url, slot)
    assert ids.current_slot() == slot
    assert store.queues.owner.name.endswith(f"#slot{slot}")
    assert (store.queues.inbox_lease_ms, store.queues.delivery_lease_ms) == (30_000, 90_000)
    await client.close()
    # Stopped: the slot is free for the next process.
    assert not await slot_is_held(database_url, slot)
