"""What a use case needs from the running application, gathered once per request."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from activitypub.policy_gate import PolicyGate
from activitypub.urls import Urls
from fedinode.config import Config
from storage import events
from storage.store import Store

log = logging.getLogger("fedinode.services")


@dataclass(frozen=True, slots=True)
class Ctx:
    store: Store
    config: Config
    urls: Urls
    federation: Any  # the federation layer when present (outbox, resolve_account), else None
    policy: PolicyGate | None = None  # the policy in force (public timelines hide limited domains)

    async def federate(self, method: str, *args: Any) -> None:
        """Hand a local change to the federation outbox; a failure there never undoes it."""
        outbox = getattr(self.federation, "outbox", None) if self.federation is not None else None
        fn = getattr(outbox, method, None) if outbox is not None else None
        if fn is None:
            return
        try:
            await fn(*args)
        except Exception:
            log.exception("federation outbox %s failed", method)

    async def publish(self, event: str, **fields: Any) -> None:
        try:
            await events.publish(self.store.db, event, **fields)
        except Exception:
            log.exception("publishing %s failed", event)
