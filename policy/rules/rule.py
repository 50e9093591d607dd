"""The shared shape of a content rule: match → reject or rewrite, per its action."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from policy.activity import ActivityView, rewrite
from policy.base import ACCEPT, PolicyContext, Reject, Rewrite, Verdict
from policy.rules.options import OptionReader


class Rule:
    """Base of every rule kind; subclasses implement `configure` and `match`."""

    kind: ClassVar[str] = ""
    __slots__ = ("_action", "_dry_run", "_name")

    def __init__(self, name: str, action: str, dry_run: bool, options: OptionReader) -> None:
        self._name = name
        self._action = action
        self._dry_run = dry_run
        self.configure(options)
        options.finish()

    @property
    def name(self) -> str:
        return self._name

    @property
    def action(self) -> str:
        return self._action

    @property
    def dry_run(self) -> bool:
        return self._dry_run

    def configure(self, options: OptionReader) -> None:
        """Read and compile the options (raise PolicyConfigError via options.error)."""

    def match(self, view: ActivityView, ctx: PolicyContext) -> str | None:
        """Why the activity matches, or None."""
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """The options, for describe()."""
        return {}

    def evaluate(self, view: ActivityView, ctx: PolicyContext) -> Verdict:
        reason = self.match(view, ctx)
        if reason is None:
            return ACCEPT
        return self.verdict(view, reason)

    def verdict(self, view: ActivityView, reason: str) -> Verdict:
        """The verdict for a matching activity, per the rule's action."""
        if self._action == "reject":
            return Reject(reason)
        new = rewrite(view.activity, self._action)
        return Rewrite(new if new is not None else dict(view.activity), self._action)

    def filter(self, activity: Mapping[str, Any], ctx: PolicyContext) -> Verdict:
        return self.evaluate(ActivityView(activity), ctx)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self._name,
            "action": self._action,
            "dry_run": self._dry_run,
            "options": self.options(),
        }
