"""Decision records: what was decided about which activity, by which rule, enforced or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from policy.base import Direction


@dataclass(frozen=True, slots=True)
class Decision:
    """One non-accept verdict; `enforced=False` means dry run (recorded, not applied)."""

    time: datetime
    direction: Direction
    peer: str
    actor: str | None
    activity_id: str | None
    activity_type: str
    rule: str
    action: str
    enforced: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        """The contract's `policy log --json` line."""
        return {
            "time": self.time.isoformat(),
            "direction": self.direction,
            "peer": self.peer,
            "actor": self.actor,
            "activity_id": self.activity_id,
            "activity_type": self.activity_type,
            "rule": self.rule,
            "action": self.action,
            "enforced": self.enforced,
            "reason": self.reason,
        }
