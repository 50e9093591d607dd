"""Pure federation policy: decisions about hosts and activities, no I/O, no project imports.

Build a `Pipeline` from `settings_from_mapping(mode, table)` once at start-up and call
`check_host` before any key fetch, delivery or fetch, and `run` on every activity.
"""

from policy.audit import Decision
from policy.base import Accept, Direction, Policy, PolicyContext, Reject, Rewrite, Verdict
from policy.errors import PolicyConfigError
from policy.pipeline import HostDecision, Outcome, Pipeline, RuleVerdict
from policy.settings import (
    DomainAllow,
    DomainBlock,
    PolicySettings,
    RuleSpec,
    settings_from_mapping,
)

__all__ = [
    "Accept",
    "Decision",
    "Direction",
    "DomainAllow",
    "DomainBlock",
    "HostDecision",
    "Outcome",
    "Pipeline",
    "Policy",
    "PolicyConfigError",
    "PolicyContext",
    "PolicySettings",
    "Reject",
    "Rewrite",
    "RuleSpec",
    "RuleVerdict",
    "Verdict",
    "settings_from_mapping",
]
