"""What a use case needs from the running application, gathered once per request."""

from __future__ import annotations

from dataclasses import dataclass

from activitypub.policy_gate import PolicyGate
from activitypub.urls import Urls
from fedinode.config import Config
from fedinode.services.federator import NO_FEDERATION, Federator
from storage.store import Store


@dataclass(frozen=True, slots=True)
class Ctx:
    store: Store
    config: Config
    urls: Urls
    # Lookups and outgoing activities; ``NO_FEDERATION`` where federation is not running.
    federation: Federator = NO_FEDERATION
    policy: PolicyGate | None = None  # the policy in force (public timelines hide limited domains)
