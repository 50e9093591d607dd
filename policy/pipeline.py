"""The policy pipeline: host check, domain-block flags, then content rules in order."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from policy.activity import ActivityView, host_of, ref_id, rewrite
from policy.audit import Decision
from policy.base import ACCEPT, Accept, Direction, Policy, PolicyContext, Reject, Rewrite, Verdict
from policy.domains import DomainMatcher
from policy.rules import Rule, build_rule
from policy.settings import LIMITING_BLOCK_FLAGS, DomainAllow, DomainBlock, PolicySettings


@dataclass(frozen=True, slots=True)
class HostDecision:
    """Whether a peer may be talked to.

    `allowed` is what the caller must obey. `rule` names the rule that refuses the host
    ("" when none does); with `enforced=False` (dry run) that refusal is only recorded and
    `allowed` stays True.
    """

    allowed: bool
    rule: str
    reason: str
    enforced: bool


@dataclass(frozen=True, slots=True)
class Outcome:
    """Result of `Pipeline.run`: the activity to use (None = rejected) and what was decided."""

    activity: dict[str, Any] | None
    decisions: tuple[Decision, ...]
    accepted: bool


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    """One line of `policy explain`: a rule's verdict on the activity, evaluated on its own."""

    rule: str
    verdict: Verdict
    enforced: bool  # False: dry run
    applies: bool  # False: the pipeline would skip this rule here (local, retraction)
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        verdict: dict[str, Any]
        if isinstance(self.verdict, Reject):
            verdict = {"verdict": "reject", "reason": self.verdict.reason}
        elif isinstance(self.verdict, Rewrite):
            verdict = {"verdict": "rewrite", "action": self.verdict.action}
        else:
            verdict = {"verdict": "accept"}
        return {
            "rule": self.rule,
            **verdict,
            "enforced": self.enforced,
            "applies": self.applies,
            "note": self.note,
        }


_ALLOWED = HostDecision(True, "", "", True)


def obfuscate_domain(domain: str) -> str:
    """Mastodon's public form of an obfuscated block: the middle letters become '*'."""
    prefix = "*." if domain.startswith("*.") else ""
    name = domain[len(prefix) :]
    length = len(name)
    visible = length // 4
    return prefix + "".join(
        "*" if visible < i < length - visible and ch != "." else ch for i, ch in enumerate(name)
    )


def _domain_flags(block: DomainBlock) -> list[tuple[str, str]]:
    """(action, reason) rewrites a non-suspend block imposes on content, in order."""
    flags: list[tuple[str, str]] = []
    if block.severity == "silence":
        flags.append(("unlist", "domain is silenced"))
    elif block.federated_timeline_removal:
        flags.append(("unlist", "removed from the federated timeline"))
    if block.followers_only:
        flags.append(("followers_only", "followers only"))
    if block.reject_media:
        flags.append(("strip_media", "media rejected"))
    if block.avatar_removal:
        flags.append(("avatar_removal", "avatars removed"))
    if block.banner_removal:
        flags.append(("banner_removal", "banners removed"))
    return flags


class Pipeline:
    """Everything compiled once from PolicySettings; `run` is pure and thread-safe."""

    __slots__ = ("_allows", "_blocks", "_extra", "_rules", "settings")

    def __init__(self, settings: PolicySettings, extra_policies: Sequence[Policy] = ()) -> None:
        self.settings = settings
        self._blocks: DomainMatcher[DomainBlock] = DomainMatcher(
            (b.domain, b) for b in settings.domain_blocks
        )
        self._allows: DomainMatcher[DomainAllow] = DomainMatcher(
            (a.domain, a) for a in settings.domain_allows
        )
        self._rules: tuple[Rule, ...] = tuple(build_rule(spec) for spec in settings.rules)
        self._extra: tuple[Policy, ...] = tuple(extra_policies)

    @property
    def dry_run(self) -> bool:
        return self.settings.dry_run

    # --- hosts ------------------------------------------------------------------------

    def domain_block_for(self, host: str) -> DomainBlock | None:
        """The most specific domain block covering host (any severity), or None."""
        return self._blocks.lookup(host)

    def domain_allow_for(self, host: str) -> DomainAllow | None:
        """The most specific domain allow covering host, or None."""
        return self._allows.lookup(host)

    def check_host(self, host: str, direction: Direction) -> HostDecision:
        """May we receive from / deliver to / fetch from this remote host? Call before any
        key fetch, delivery or fetch."""
        return self._check_host(host)[0]

    def _check_host(self, host: str) -> tuple[HostDecision, DomainBlock | None]:
        block = self._blocks.lookup(host)
        return self._host_decision(host, block), block

    def _host_decision(self, host: str, block: DomainBlock | None) -> HostDecision:
        mode = self.settings.mode
        if mode == "closed":
            return self._refuse("mode:closed", "federation is closed")
        if block is not None and block.severity == "suspend":
            reason = f"{block.domain} is suspended"
            if block.public_comment:
                reason += f": {block.public_comment}"
            return self._refuse(f"domain_block:{block.domain}", reason)
        if mode == "allowlist" and self._allows.lookup(host) is None:
            return self._refuse("mode:allowlist", f"{host} is not in domain_allows")
        return _ALLOWED

    def _refuse(self, rule: str, reason: str) -> HostDecision:
        enforced = not self.settings.dry_run
        return HostDecision(not enforced, rule, reason, enforced)

    # --- activities -------------------------------------------------------------------

    def _hosts(self, activity: Mapping[str, Any], ctx: PolicyContext) -> list[str]:
        """The peer and, for received activities, the actor's host: a relayed activity from
        a suspended domain is refused even when the relay is fine."""
        hosts = [ctx.peer] if ctx.peer else []
        if ctx.direction != "outbound":
            actor = ref_id(activity.get("actor"))
            for candidate in (ctx.actor, actor) if actor != ctx.actor else (actor,):
                host = host_of(candidate)
                if host and host not in hosts:
                    hosts.append(host)
        return hosts

    def run(self, activity: Mapping[str, Any], ctx: PolicyContext) -> Outcome:
        """Decide about one activity; first enforced reject wins, rewrites chain."""
        current: dict[str, Any] = activity if isinstance(activity, dict) else dict(activity)
        decisions: list[Decision] = []
        view = ActivityView(current)

        def record(rule: str, action: str, enforced: bool, reason: str) -> None:
            decisions.append(
                Decision(
                    time=ctx.now,
                    direction=ctx.direction,
                    peer=ctx.peer,
                    actor=ctx.actor if ctx.actor is not None else ref_id(current.get("actor")),
                    activity_id=view.id,
                    activity_type=view.type,
                    rule=rule,
                    action=action,
                    enforced=enforced,
                    reason=reason,
                )
            )

        def rejected() -> Outcome:
            return Outcome(None, tuple(decisions), False)

        if ctx.local:
            if ctx.direction == "outbound" and ctx.peer:
                host = self.check_host(ctx.peer, ctx.direction)
                if host.rule:
                    record(host.rule, "reject", host.enforced, host.reason)
                    if not host.allowed:
                        return rejected()
            return Outcome(current, tuple(decisions), True)

        # 1. hosts: suspension applies to everything, retractions included.
        block: DomainBlock | None = None
        for hostname in self._hosts(current, ctx):
            host, found = self._check_host(hostname)
            if host.rule:
                record(host.rule, "reject", host.enforced, host.reason)
                if not host.allowed:
                    return rejected()
            if block is None:
                block = found

        enforced_default = not self.settings.dry_run
        # 2. domain-block flags (retractions: only reject_deletes).
        if block is not None:
            rule = f"domain_block:{block.domain}"
            if block.reject_deletes and "Delete" in view.types:
                record(rule, "reject", enforced_default, "deletes from this domain are rejected")
                if enforced_default:
                    return rejected()
            if view.is_retraction:
                return Outcome(current, tuple(decisions), True)
            if block.reject_reports and "Flag" in view.types:
                record(rule, "reject", enforced_default, "reports from this domain are rejected")
                if enforced_default:
                    return rejected()
            for action, reason in _domain_flags(block):
                new = rewrite(current, action)
                if new is None:
                    continue
                record(rule, action, enforced_default, reason)
                if enforced_default:
                    current = new
                    view = ActivityView(current)
        elif view.is_retraction:
            return Outcome(current, tuple(decisions), True)

        # 3. content rules, in order.
        for policy in (*self._rules, *self._extra):
            reason = ""
            if isinstance(policy, Rule):
                matched = policy.match(view, ctx)
                if matched is None:
                    continue
                reason = matched
                verdict = policy.verdict(view, matched)
            else:
                verdict = policy.filter(current, ctx)
            if isinstance(verdict, Accept):
                continue
            enforced = enforced_default and not policy.dry_run
            if isinstance(verdict, Reject):
                record(policy.name, "reject", enforced, verdict.reason)
                if enforced:
                    return rejected()
            else:
                record(policy.name, verdict.action, enforced, reason or f"{policy.name} matched")
                if enforced:
                    current = verdict.activity
                    view = ActivityView(current)
        return Outcome(current, tuple(decisions), True)

    def explain(self, activity: Mapping[str, Any], ctx: PolicyContext) -> list[RuleVerdict]:
        """Every rule's verdict on the activity, each evaluated on its own (even after a
        reject), with whether the pipeline would apply it here."""
        view = ActivityView(activity)
        dry = self.settings.dry_run
        out: list[RuleVerdict] = []
        hosts = self._hosts(activity, ctx)
        if ctx.local:
            hosts = [ctx.peer] if ctx.direction == "outbound" and ctx.peer else []
        block: DomainBlock | None = None
        for hostname in hosts:
            host = self.check_host(hostname, ctx.direction)
            verdict: Verdict = Reject(host.reason) if host.rule else ACCEPT
            out.append(RuleVerdict(host.rule or f"host:{hostname}", verdict, not dry, True))
            block = block or self._blocks.lookup(hostname)
        content_applies = not ctx.local and not view.is_retraction
        note = "local activity" if ctx.local else "retraction" if view.is_retraction else ""
        if block is not None:
            rule = f"domain_block:{block.domain}"
            if block.reject_deletes:
                hit = "Delete" in view.types
                out.append(
                    RuleVerdict(
                        rule,
                        Reject("deletes from this domain are rejected") if hit else ACCEPT,
                        not dry,
                        not ctx.local,
                    )
                )
            if block.reject_reports:
                hit = "Flag" in view.types
                out.append(
                    RuleVerdict(
                        rule,
                        Reject("reports from this domain are rejected") if hit else ACCEPT,
                        not dry,
                        content_applies,
                        note,
                    )
                )
            for action, _reason in _domain_flags(block):
                new = rewrite(activity, action)
                flag_verdict: Verdict = ACCEPT if new is None else Rewrite(new, action)
                out.append(RuleVerdict(rule, flag_verdict, not dry, content_applies, note))
        for policy in (*self._rules, *self._extra):
            if isinstance(policy, Rule):
                verdict = policy.evaluate(view, ctx)
            else:
                verdict = policy.filter(activity, ctx)
            enforced = not dry and not policy.dry_run
            out.append(RuleVerdict(policy.name, verdict, enforced, content_applies, note))
        return out

    # --- transparency -----------------------------------------------------------------

    def describe(self, private: bool = False) -> dict[str, Any]:
        """Mode, blocks (public comment, obfuscated when asked), allows and rule kinds: for
        NodeInfo metadata and /api/v1/instance/domain_blocks. `private=True` adds private
        comments, real domains and rule options (for `fedinode policy check`)."""
        blocks: list[dict[str, Any]] = []
        for block in self.settings.domain_blocks:
            entry: dict[str, Any] = {
                "domain": obfuscate_domain(block.domain) if block.obfuscate else block.domain,
                "digest": hashlib.sha256(block.domain.encode()).hexdigest(),
                "severity": block.severity,
                "comment": block.public_comment,
            }
            if private:
                entry["domain"] = block.domain
                entry["private_comment"] = block.private_comment
                entry["obfuscate"] = block.obfuscate
            for flag in LIMITING_BLOCK_FLAGS:
                entry[flag] = getattr(block, flag)
            blocks.append(entry)
        rules: list[dict[str, Any]] = []
        for policy in (*self._rules, *self._extra):
            described = policy.describe()
            if not private:
                described.pop("options", None)
            rules.append(described)
        return {
            "mode": self.settings.mode,
            "dry_run": self.settings.dry_run,
            "domain_blocks": blocks,
            "domain_allows": [
                {"domain": a.domain, "comment": a.public_comment}
                for a in self.settings.domain_allows
            ],
            "rules": rules,
            "rule_kinds": sorted({str(r.get("kind", "")) for r in rules} - {""}),
        }
