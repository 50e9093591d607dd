"""The validated [policy] configuration: frozen dataclasses built from the TOML table."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from policy.activity import ACTIONS
from policy.errors import PolicyConfigError
from policy.peer_limits import PeerLimits, peer_limits_from_mapping

if TYPE_CHECKING:
    from policy.lists import SubscriptionSpec

Mode = Literal["open", "allowlist", "closed"]
Severity = Literal["suspend", "silence", "noop"]
MODES: tuple[Mode, ...] = ("open", "allowlist", "closed")
SEVERITIES: tuple[Severity, ...] = ("suspend", "silence", "noop")

_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


_MAX_DOMAIN = 253  # the longest a DNS name is, in its ASCII form, dots included


def normalize_domain(value: str, key: str = "domain", wildcard: bool = True) -> str:
    """Lowercase, IDNA-encode and strip the trailing dot; keeps a leading "*." and a :port."""
    text = value.strip().lower().rstrip(".")
    prefix = ""
    if text.startswith("*."):
        if not wildcard:
            raise PolicyConfigError(key, f"wildcard not allowed here: {value!r}")
        prefix, text = "*.", text[2:]
    port = ""
    if ":" in text:
        text, _, port = text.rpartition(":")
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise PolicyConfigError(key, f"invalid port in domain {value!r}")
        port = ":" + port
    text = text.rstrip(".")
    if not text:
        raise PolicyConfigError(key, f"empty domain {value!r}")
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise PolicyConfigError(key, f"invalid domain {value!r}: {exc}") from None
    if len(text) > _MAX_DOMAIN or not all(_LABEL.match(label) for label in text.split(".")):
        raise PolicyConfigError(key, f"invalid domain {value[:300]!r}")
    return prefix + text + port


@dataclass(frozen=True, slots=True)
class DomainBlock:
    """A Mastodon-style domain block; `domain` may be "*.example.org"."""

    domain: str
    severity: Severity = "suspend"
    reject_media: bool = False
    reject_reports: bool = False
    federated_timeline_removal: bool = False
    followers_only: bool = False
    avatar_removal: bool = False
    banner_removal: bool = False
    reject_deletes: bool = False
    public_comment: str = ""
    private_comment: str = ""
    obfuscate: bool = False


# The flags of a domain block, each a bool field of DomainBlock (and a column of storage's
# DomainBlockRow; tests/activitypub/test_policy_gate.py keeps the two in step). Mastodon has
# reject_media, reject_reports and obfuscate; the finer ones are Akkoma's.
FINER_BLOCK_FLAGS = (
    "federated_timeline_removal",
    "followers_only",
    "avatar_removal",
    "banner_removal",
    "reject_deletes",
)
# What a block limits beyond its severity; obfuscate only changes how the block is shown.
LIMITING_BLOCK_FLAGS = ("reject_media", "reject_reports", *FINER_BLOCK_FLAGS)
BLOCK_FLAGS = (*LIMITING_BLOCK_FLAGS, "obfuscate")
BLOCK_TEXTS = ("public_comment", "private_comment")


@dataclass(frozen=True, slots=True)
class DomainAllow:
    """A domain allowed in allowlist mode; `domain` may be "*.example.org"."""

    domain: str
    public_comment: str = ""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One [[policy.rules]] entry: kind, its validated options, action, dry_run."""

    kind: str
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    action: str = "reject"
    dry_run: bool = False
    name: str = ""  # defaults to "<kind>[<index>]"
    key: str = "policy.rules"  # config path, for error messages


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """Everything the pipeline is compiled from."""

    mode: Mode = "open"
    dry_run: bool = False
    domain_allows: tuple[DomainAllow, ...] = ()
    domain_blocks: tuple[DomainBlock, ...] = ()
    rules: tuple[RuleSpec, ...] = ()
    audit_retention_days: int = 90
    subscriptions: tuple[SubscriptionSpec, ...] = ()
    # ("block" | "allow", domain) of the file's rules marked `publish = true`.
    published: frozenset[tuple[str, str]] = frozenset()
    peer_limits: PeerLimits = field(default_factory=PeerLimits)

    def merged(
        self, extra_blocks: Iterable[DomainBlock] = (), extra_allows: Iterable[DomainAllow] = ()
    ) -> PolicySettings:
        """Add runtime (database) blocks/allows; for the same domain the extra entry wins."""
        blocks = {b.domain: b for b in self.domain_blocks}
        for block in extra_blocks:
            domain = normalize_domain(block.domain, "domain_blocks.domain")
            blocks[domain] = replace(block, domain=domain)
        allows = {a.domain: a for a in self.domain_allows}
        for allow in extra_allows:
            domain = normalize_domain(allow.domain, "domain_allows.domain")
            allows[domain] = replace(allow, domain=domain)
        return replace(
            self, domain_blocks=tuple(blocks.values()), domain_allows=tuple(allows.values())
        )


# --- validation -------------------------------------------------------------------------

_TOP_KEYS = frozenset(
    {
        "dry_run", "audit_retention_days", "domain_allows", "domain_blocks", "rules",
        "subscriptions", "peer_limits",
    }
)  # fmt: skip
_BLOCK_KEYS = frozenset({"domain", "severity", "publish", *BLOCK_TEXTS, *BLOCK_FLAGS})
_ALLOW_KEYS = frozenset({"domain", "public_comment", "publish"})
_RULE_COMMON_KEYS = frozenset({"kind", "action", "dry_run", "name"})


def _type_name(value: Any) -> str:
    return type(value).__name__


def _bool(table: Mapping[str, Any], name: str, key: str, default: bool = False) -> bool:
    value = table.get(name, default)
    if not isinstance(value, bool):
        raise PolicyConfigError(f"{key}.{name}", f"expected a boolean, got {_type_name(value)}")
    return value


def _str(table: Mapping[str, Any], name: str, key: str, default: str | None = None) -> str:
    if name not in table:
        if default is None:
            raise PolicyConfigError(f"{key}.{name}", "required key is missing")
        return default
    value = table[name]
    if not isinstance(value, str):
        raise PolicyConfigError(f"{key}.{name}", f"expected a string, got {_type_name(value)}")
    return value


def _unknown(table: Mapping[str, Any], allowed: Iterable[str], key: str) -> None:
    allowed = frozenset(allowed)
    for name in table:
        if name not in allowed:
            raise PolicyConfigError(
                f"{key}.{name}", f"unknown key (expected one of: {', '.join(sorted(allowed))})"
            )


def _tables(table: Mapping[str, Any], name: str) -> list[tuple[str, Mapping[str, Any]]]:
    value = table.get(name, [])
    key = f"policy.{name}"
    if not isinstance(value, list):
        raise PolicyConfigError(key, f"expected an array of tables, got {_type_name(value)}")
    out: list[tuple[str, Mapping[str, Any]]] = []
    for index, item in enumerate(value):
        item_key = f"{key}[{index}]"
        if not isinstance(item, Mapping):
            raise PolicyConfigError(item_key, f"expected a table, got {_type_name(item)}")
        out.append((item_key, item))
    return out


def _block(item: Mapping[str, Any], key: str) -> DomainBlock:
    _unknown(item, _BLOCK_KEYS, key)
    domain = normalize_domain(_str(item, "domain", key), f"{key}.domain")
    severity = _str(item, "severity", key, "suspend")
    if severity not in SEVERITIES:
        raise PolicyConfigError(
            f"{key}.severity", f"invalid value {severity!r} (expected suspend, silence or noop)"
        )
    flags = {name: _bool(item, name, key) for name in BLOCK_FLAGS}
    return DomainBlock(
        domain=domain,
        severity=severity,
        public_comment=_str(item, "public_comment", key, ""),
        private_comment=_str(item, "private_comment", key, ""),
        **flags,
    )


def _allow(item: Mapping[str, Any], key: str) -> DomainAllow:
    _unknown(item, _ALLOW_KEYS, key)
    return DomainAllow(
        domain=normalize_domain(_str(item, "domain", key), f"{key}.domain"),
        public_comment=_str(item, "public_comment", key, ""),
    )


def _rule(item: Mapping[str, Any], key: str, index: int) -> RuleSpec:
    from policy.rules import RULE_KINDS, build_rule  # the rules validate their own options

    kind = _str(item, "kind", key)
    if kind not in RULE_KINDS:
        raise PolicyConfigError(
            f"{key}.kind", f"unknown rule kind {kind!r} (expected one of: {', '.join(RULE_KINDS)})"
        )
    action = _str(item, "action", key, "reject")
    if action not in ACTIONS:
        raise PolicyConfigError(
            f"{key}.action",
            f"invalid action {action!r} (expected one of: {', '.join(sorted(ACTIONS))})",
        )
    options = {k: v for k, v in item.items() if k not in _RULE_COMMON_KEYS}
    spec = RuleSpec(
        kind=kind,
        options=MappingProxyType(options),
        action=action,
        dry_run=_bool(item, "dry_run", key),
        name=_str(item, "name", key, f"{kind}[{index}]"),
        key=key,
    )
    build_rule(spec)  # raises PolicyConfigError naming the option
    return spec


def settings_from_mapping(mode: str, table: Mapping[str, Any]) -> PolicySettings:
    """Validate the [policy] table (and [federation].mode); errors name the exact key."""
    if mode not in MODES:
        raise PolicyConfigError(
            "federation.mode", f"invalid value {mode!r} (expected open, allowlist or closed)"
        )
    _unknown(table, _TOP_KEYS, "policy")
    retention = table.get("audit_retention_days", 90)
    if isinstance(retention, bool) or not isinstance(retention, int):
        raise PolicyConfigError(
            "policy.audit_retention_days", f"expected an integer, got {_type_name(retention)}"
        )
    if retention < 1:
        raise PolicyConfigError("policy.audit_retention_days", "must be at least 1")
    rules = tuple(
        _rule(item, key, index) for index, (key, item) in enumerate(_tables(table, "rules"))
    )
    from policy.lists import subscription_from_mapping

    subscriptions = tuple(
        subscription_from_mapping(item, key) for key, item in _tables(table, "subscriptions")
    )
    urls: set[str] = set()
    for index, sub in enumerate(subscriptions):
        if sub.url in urls:
            raise PolicyConfigError(f"policy.subscriptions[{index}].url", f"duplicate {sub.url!r}")
        urls.add(sub.url)
    published = frozenset(
        (kind, normalize_domain(_str(item, "domain", key), f"{key}.domain"))
        for kind, name in (("block", "domain_blocks"), ("allow", "domain_allows"))
        for key, item in _tables(table, name)
        if _bool(item, "publish", key)
    )
    names: set[str] = set()
    for index, spec in enumerate(rules):
        if spec.name in names:
            raise PolicyConfigError(f"policy.rules[{index}].name", f"duplicate name {spec.name!r}")
        names.add(spec.name)
    return PolicySettings(
        mode=mode,
        dry_run=_bool(table, "dry_run", "policy"),
        domain_allows=tuple(_allow(item, key) for key, item in _tables(table, "domain_allows")),
        domain_blocks=tuple(_block(item, key) for key, item in _tables(table, "domain_blocks")),
        rules=rules,
        audit_retention_days=retention,
        subscriptions=subscriptions,
        published=published,
        peer_limits=peer_limits_from_mapping(table.get("peer_limits", {})),
    )
