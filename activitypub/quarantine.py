"""First-contact quarantine at the inbox ([federation] first_contact = "quarantine").

A host is *known* when the database holds an account from it (someone here looked it up,
followed it, or it delivered before), when we delivered to it, when a domain allow names it,
or when an admin released it (or rejected it and later lifted the block). Anything else is a
first contact: its activities are verified and policy-checked as usual, then kept in the
database instead of the inbox queue, until an admin (or quarantine_hours) decides.

The host is marked held *before* its signature is verified, because verifying fetches the
actor and stores its account, which would make the host look known to the next request;
marked first, every later request (in any process) sees the host held. Decisions are
recorded in the policy log under the rule ``first_contact``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activitypub.keys import LRU
from activitypub.policy_gate import PolicyGate
from activitypub.settings import FederationSettings
from policy.audit import Decision
from storage.quarantine import HELD, HeldActivity
from storage.store import Store

RULE = "first_contact"


def hold_reason(host: str, settings: FederationSettings) -> str:
    """Why an activity is held, for the policy log."""
    reason = f"first contact: {host} was never seen here; held until an admin releases or rejects it"
    if settings.quarantine_hours:
        done = "released" if settings.quarantine_expiry == "release" else "rejected"
        reason += f" (or {done} after {settings.quarantine_hours} h)"
    return reason


class FirstContact:
    """Which hosts are held, and holding what they send."""

    def __init__(self, store: Store, gate: PolicyGate, settings: FederationSettings) -> None:
        self.store = store
        self.gate = gate
        self.settings = settings
        # Hosts found known stay known (a rejection is a domain block, checked earlier).
        self._known: LRU[bool] = LRU(16_384)

    @property
    def enabled(self) -> bool:
        return self.settings.first_contact == "quarantine"

    def expires_at(self, first_seen_ms: int) -> datetime | None:
        """When a host first seen at ``first_seen_ms`` is decided by itself (None: never)."""
        if not self.settings.quarantine_hours:
            return None
        first = datetime.fromtimestamp(first_seen_ms / 1000, UTC)
        return first + timedelta(hours=self.settings.quarantine_hours)

    async def is_held(self, host: str) -> bool:
        """Before the signature is verified: True when ``host``'s activities are to be held
        (a host met now for the first time is marked held at once)."""
        if not self.enabled or self._known.get(host):
            return False
        state = await self.store.quarantine.state(host)
        if state == HELD:
            return True
        if (
            state is not None
            or self.gate.pipeline.domain_allow_for(host) is not None
            or await self.store.quarantine.known(host)
        ):
            self._known.put(host, True)
            return False
        if not self.gate.pipeline.dry_run:
            await self.store.quarantine.mark_held(host)
        return True

    async def hold(
        self,
        *,
        host: str,
        activity_id: str,
        activity_type: str,
        actor: str,
        payload: str,
        recipient_account_id: int | None,
    ) -> bool:
        """Keep a verified, policy-checked activity of a held host and log it; False when
        it is to be processed now (dry run, or the host was released meanwhile)."""
        enforced = not self.gate.pipeline.dry_run
        held = enforced and await self.store.quarantine.hold(
            HeldActivity(
                host=host,
                activity_id=activity_id,
                activity_type=activity_type,
                actor=actor,
                payload=payload,
                recipient_account_id=recipient_account_id,
            )
        )
        if held or not enforced:
            await self.gate.record(
                [
                    Decision(
                        time=datetime.now(UTC),
                        direction="inbound",
                        peer=host,
                        actor=actor,
                        activity_id=activity_id,
                        activity_type=activity_type,
                        rule=RULE,
                        action="hold",
                        enforced=enforced,
                        reason=hold_reason(host, self.settings),
                    )
                ]
            )
        return held
