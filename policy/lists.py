"""Shared policy lists: the entries an instance publishes, the document that carries them,
Mastodon's CSV, subscription settings, and what a sync of one subscription changes.

Pure: no I/O. Signing and fetching live in ``activitypub.policy_lists``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from policy.errors import PolicyConfigError
from policy.settings import SEVERITIES, Severity, normalize_domain

Kind = Literal["block", "allow"]
SubscriptionMode = Literal["apply", "review"]
SUBSCRIPTION_MODES: tuple[SubscriptionMode, ...] = ("apply", "review")
LIST_TYPE = "PolicyList"
# Mastodon's domain block export header, in its order.
CSV_HEADER = ("#domain", "#severity", "#reject_media", "#reject_reports", "#public_comment",
              "#obfuscate")  # fmt: skip
MAX_ENTRIES = 100_000
_MAX_COMMENT = 1000
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"", "0", "false", "f", "no", "n", "off"})


class ListFormatError(ValueError):
    """A list document or CSV that cannot be read; the message says where."""


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One published rule: a block (with severity and flags) or an allow."""

    kind: Kind
    domain: str
    severity: Severity = "suspend"
    reject_media: bool = False
    reject_reports: bool = False
    obfuscate: bool = False
    public_comment: str = ""

    @property
    def key(self) -> tuple[Kind, str]:
        return (self.kind, self.domain)

    def to_json(self) -> dict[str, Any]:
        if self.kind == "allow":
            return {"domain": self.domain, "public_comment": self.public_comment}
        return {
            "domain": self.domain,
            "severity": self.severity,
            "reject_media": self.reject_media,
            "reject_reports": self.reject_reports,
            "obfuscate": self.obfuscate,
            "public_comment": self.public_comment,
        }


def list_document(
    list_id: str, actor_id: str, entries: Iterable[ListEntry], updated: str
) -> dict[str, Any]:
    """The unsigned JSON document of a published list."""
    ordered = sorted(entries, key=lambda e: (e.kind, e.domain))
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/data-integrity/v2",
        ],
        "id": list_id,
        "type": LIST_TYPE,
        "attributedTo": actor_id,
        "updated": updated,
        "blocks": [e.to_json() for e in ordered if e.kind == "block"],
        "allows": [e.to_json() for e in ordered if e.kind == "allow"],
    }


def _flag(item: Mapping[str, Any], name: str, where: str) -> bool:
    value = item.get(name, False)
    if not isinstance(value, bool):
        raise ListFormatError(f"{where}.{name}: expected a boolean")
    return value


def _comment(item: Mapping[str, Any], where: str) -> str:
    value = item.get("public_comment", "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ListFormatError(f"{where}.public_comment: expected a string")
    return value[:_MAX_COMMENT]


def _domain(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ListFormatError(f"{where}.domain: expected a string")
    try:
        return normalize_domain(value, f"{where}.domain")
    except PolicyConfigError as exc:
        raise ListFormatError(str(exc)) from None


def entries_from_document(doc: Mapping[str, Any]) -> list[ListEntry]:
    """The entries of a list document (signature already checked, or not required)."""
    if doc.get("type") != LIST_TYPE:
        raise ListFormatError(f"type: expected {LIST_TYPE!r}")
    out: dict[tuple[Kind, str], ListEntry] = {}
    for kind, name in (("block", "blocks"), ("allow", "allows")):
        items = doc.get(name, [])
        if not isinstance(items, list):
            raise ListFormatError(f"{name}: expected an array")
        if len(items) > MAX_ENTRIES:
            raise ListFormatError(f"{name}: more than {MAX_ENTRIES} entries")
        for index, item in enumerate(items):
            where = f"{name}[{index}]"
            if not isinstance(item, Mapping):
                raise ListFormatError(f"{where}: expected an object")
            domain = _domain(item.get("domain"), where)
            if kind == "allow":
                entry = ListEntry("allow", domain, public_comment=_comment(item, where))
            else:
                severity = item.get("severity", "suspend")
                if severity not in SEVERITIES:
                    raise ListFormatError(f"{where}.severity: {severity!r} is not one of "
                                          "suspend, silence, noop")  # fmt: skip
                entry = ListEntry(
                    "block",
                    domain,
                    severity=severity,
                    reject_media=_flag(item, "reject_media", where),
                    reject_reports=_flag(item, "reject_reports", where),
                    obfuscate=_flag(item, "obfuscate", where),
                    public_comment=_comment(item, where),
                )
            out[entry.key] = entry
    return list(out.values())


def render_csv(entries: Iterable[ListEntry]) -> str:
    """The blocks as Mastodon's domain block export (allows have no place in it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for e in sorted(entries, key=lambda e: e.domain):
        if e.kind != "block":
            continue
        writer.writerow([e.domain, e.severity, _text(e.reject_media), _text(e.reject_reports),
                         e.public_comment, _text(e.obfuscate)])  # fmt: skip
    return out.getvalue()


def _text(value: bool) -> str:
    return "true" if value else "false"


def entries_from_csv(text: str) -> list[ListEntry]:
    """Mastodon's (or GoToSocial's) domain block CSV, or a bare list of domains."""
    header: list[str] | None = None
    out: dict[tuple[Kind, str], ListEntry] = {}
    for line, cells in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1):
        if not cells or not "".join(cells).strip():
            continue
        names = [c.strip().lstrip("#").strip().lower() for c in cells]
        if header is None and "domain" in names:
            header = names
            continue
        if cells[0].lstrip().startswith("#"):
            continue
        values = {
            name: cells[i].strip()
            for i, name in enumerate(header or ["domain"])
            if name and i < len(cells)
        }
        where = f"line {line}"
        domain = _domain(values.get("domain", ""), where)
        severity = (values.get("severity") or "suspend").lower()
        if severity not in SEVERITIES:
            raise ListFormatError(f"{where}: severity {severity!r} is not one of suspend, "
                                  "silence, noop")  # fmt: skip
        flags = {}
        for name in ("reject_media", "reject_reports", "obfuscate"):
            raw = values.get(name, "").lower()
            if raw not in _TRUE and raw not in _FALSE:
                raise ListFormatError(f"{where}: {name}: not a boolean: {raw!r}")
            flags[name] = raw in _TRUE
        entry = ListEntry(
            "block",
            domain,
            severity=severity,
            public_comment=values.get("public_comment", "")[:_MAX_COMMENT],
            **flags,
        )
        out[entry.key] = entry
        if len(out) > MAX_ENTRIES:
            raise ListFormatError(f"more than {MAX_ENTRIES} entries")
    return list(out.values())


# -- subscriptions -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriptionSpec:
    """One [[policy.subscriptions]] entry (or one made through the admin API)."""

    url: str
    mode: SubscriptionMode = "apply"
    priority: int = 0
    excludes: tuple[str, ...] = ()
    severities: tuple[Severity, ...] = SEVERITIES
    allow_unsigned: bool = False
    title: str = ""

    def takes(self, entry: ListEntry) -> bool:
        """Whether this subscription takes ``entry`` (severity wanted, domain not excluded)."""
        if entry.kind == "block" and entry.severity not in self.severities:
            return False
        return not excluded(entry.domain, self.excludes)


def excluded(domain: str, excludes: Sequence[str]) -> bool:
    """``domain`` is named by an exclude: exact, or under a "*.x.org" pattern."""
    for pattern in excludes:
        if pattern.startswith("*."):
            base = pattern[2:]
            if domain == base or domain.endswith("." + base) or domain == pattern:
                return True
        elif domain == pattern:
            return True
    return False


_SUB_KEYS = frozenset({"url", "mode", "priority", "excludes", "severities", "allow_unsigned",
                       "title"})  # fmt: skip


def subscription_from_mapping(item: Mapping[str, Any], key: str) -> SubscriptionSpec:
    """Validate one subscription table; errors name the exact key."""
    for name in item:
        if name not in _SUB_KEYS:
            raise PolicyConfigError(
                f"{key}.{name}", f"unknown key (expected one of: {', '.join(sorted(_SUB_KEYS))})"
            )
    url = item.get("url")
    if not isinstance(url, str) or not url.strip():
        raise PolicyConfigError(f"{key}.url", "required key is missing")
    url = url.strip()
    if not url.startswith(("https://", "http://")):
        raise PolicyConfigError(f"{key}.url", f"not an http(s) URL: {url!r}")
    mode = item.get("mode", "apply")
    if mode not in SUBSCRIPTION_MODES:
        raise PolicyConfigError(f"{key}.mode", f"invalid value {mode!r} (expected apply or review)")
    priority = item.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 255:
        raise PolicyConfigError(f"{key}.priority", "expected an integer from 0 to 255")
    excludes_raw = item.get("excludes", [])
    if not isinstance(excludes_raw, list) or not all(isinstance(x, str) for x in excludes_raw):
        raise PolicyConfigError(f"{key}.excludes", "expected an array of domains")
    excludes = tuple(normalize_domain(x, f"{key}.excludes") for x in excludes_raw)
    severities_raw = item.get("severities", list(SEVERITIES))
    if not isinstance(severities_raw, list) or not all(
        isinstance(x, str) and x in SEVERITIES for x in severities_raw
    ):
        raise PolicyConfigError(f"{key}.severities", "expected an array of: suspend, silence, noop")
    allow_unsigned = item.get("allow_unsigned", False)
    if not isinstance(allow_unsigned, bool):
        raise PolicyConfigError(f"{key}.allow_unsigned", "expected a boolean")
    title = item.get("title", "")
    if not isinstance(title, str):
        raise PolicyConfigError(f"{key}.title", "expected a string")
    return SubscriptionSpec(
        url=url,
        mode=mode,
        priority=priority,
        excludes=excludes,
        severities=tuple(severities_raw),
        allow_unsigned=allow_unsigned,
        title=title,
    )


# -- what a sync changes -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Held:
    """A rule in force here, with the subscription that manages it (None: the admin's)."""

    entry: ListEntry
    subscription_id: int | None
    subscription_priority: int = 0


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What one subscription's fetched list changes here."""

    create: tuple[ListEntry, ...] = ()
    update: tuple[ListEntry, ...] = ()  # same rule, new severity/flags/comment
    take_over: tuple[ListEntry, ...] = ()  # managed by a lower-priority subscription until now
    retract: tuple[ListEntry, ...] = ()  # gone upstream: removed here
    drafts: tuple[ListEntry, ...] = ()  # review mode: left for an admin
    skipped: tuple[ListEntry, ...] = field(default=())  # the admin's own, or a higher list's


def plan_sync(
    subscription_id: int,
    spec: SubscriptionSpec,
    upstream: Iterable[ListEntry],
    held: Mapping[tuple[Kind, str], Held],
) -> SyncPlan:
    """Compare a subscription's list with the rules in force.

    A rule the admin made (or adopted) is never touched; one managed by a subscription of
    higher priority stays with it; one managed by a lower (or equal, older) one is taken
    over. Review mode changes nothing in force: new or changed entries become drafts, and
    retractions wait too (the admin removes the rule, or adopts it).
    """
    wanted = {e.key: e for e in upstream if spec.takes(e)}
    create: list[ListEntry] = []
    update: list[ListEntry] = []
    take_over: list[ListEntry] = []
    drafts: list[ListEntry] = []
    skipped: list[ListEntry] = []
    for key, entry in sorted(wanted.items()):
        current = held.get(key)
        if current is None:
            (drafts if spec.mode == "review" else create).append(entry)
            continue
        if current.subscription_id is None:
            skipped.append(entry)
        elif current.subscription_id == subscription_id:
            if current.entry != entry:
                (drafts if spec.mode == "review" else update).append(entry)
        elif current.subscription_priority < spec.priority:
            (drafts if spec.mode == "review" else take_over).append(entry)
        else:
            skipped.append(entry)
    retract = [
        h.entry
        for key, h in sorted(held.items())
        if h.subscription_id == subscription_id and key not in wanted
    ]
    return SyncPlan(
        create=tuple(create),
        update=tuple(update),
        take_over=tuple(take_over),
        retract=tuple(retract) if spec.mode == "apply" else (),
        drafts=tuple(drafts),
        skipped=tuple(skipped),
    )
