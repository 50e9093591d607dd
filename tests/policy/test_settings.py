"""Validation of the [policy] table: every error names the exact key."""

from __future__ import annotations

from typing import Any

import pytest

from policy.errors import PolicyConfigError
from policy.settings import DomainAllow, DomainBlock, PolicySettings, settings_from_mapping

FULL: dict[str, Any] = {
    "dry_run": True,
    "audit_retention_days": 30,
    "domain_allows": [{"domain": "B.example", "public_comment": "friends"}],
    "domain_blocks": [
        {"domain": "*.spam.example", "severity": "suspend", "public_comment": "spam"},
        {
            "domain": "quiet.example",
            "severity": "silence",
            "reject_media": True,
            "reject_reports": True,
            "federated_timeline_removal": True,
            "followers_only": True,
            "avatar_removal": True,
            "banner_removal": True,
            "reject_deletes": True,
            "private_comment": "see ticket 12",
            "obfuscate": True,
        },
    ],
    "rules": [
        {"kind": "keyword", "pattern": "buy cheap", "action": "reject"},
        {"kind": "hashtag", "tags": ["spam"], "action": "unlist", "dry_run": True, "name": "tags"},
        {"kind": "object_age", "max_age": "7d"},
        {"kind": "mentions", "max": 10},
        {"kind": "new_account_links", "min_age_hours": 24},
        {"kind": "media", "max_count": 4, "allowed_types": ["image/*"], "max_size": 10_000_000},
        {"kind": "vocabulary", "reject": ["ChatMessage"]},
        {"kind": "sparql", "query": "ASK { ?activity a as:Flag }"},
    ],
}


def test_full_config() -> None:
    s = settings_from_mapping("allowlist", FULL)
    assert s.mode == "allowlist" and s.dry_run and s.audit_retention_days == 30
    assert s.domain_allows == (DomainAllow("b.example", "friends"),)
    assert s.domain_blocks[0] == DomainBlock("*.spam.example", "suspend", public_comment="spam")
    quiet = s.domain_blocks[1]
    assert quiet.severity == "silence" and quiet.reject_deletes and quiet.obfuscate
    assert [r.kind for r in s.rules] == [
        "keyword",
        "hashtag",
        "object_age",
        "mentions",
        "new_account_links",
        "media",
        "vocabulary",
        "sparql",
    ]
    assert s.rules[0].name == "keyword[0]" and s.rules[0].action == "reject"
    assert s.rules[1].name == "tags" and s.rules[1].dry_run and s.rules[1].action == "unlist"
    assert dict(s.rules[3].options) == {"max": 10}


def test_defaults() -> None:
    s = settings_from_mapping("open", {})
    assert s == PolicySettings()
    assert s.audit_retention_days == 90


def _rule(**entry: Any) -> dict[str, Any]:
    return {
        "rules": [{"kind": "keyword", "pattern": "x"}, {"kind": "keyword", "pattern": "y"}, entry]
    }


@pytest.mark.parametrize(
    ("mode", "table", "key", "fragment"),
    [
        ("sideways", {}, "federation.mode", "invalid value"),
        ("open", {"dryrun": True}, "policy.dryrun", "unknown key"),
        ("open", {"dry_run": "yes"}, "policy.dry_run", "boolean"),
        ("open", {"audit_retention_days": "90"}, "policy.audit_retention_days", "integer"),
        ("open", {"audit_retention_days": 0}, "policy.audit_retention_days", "at least 1"),
        ("open", {"domain_blocks": {"domain": "x"}}, "policy.domain_blocks", "array of tables"),
        ("open", {"domain_blocks": ["x.example"]}, "policy.domain_blocks[0]", "table"),
        (
            "open",
            {"domain_blocks": [{"severity": "silence"}]},
            "policy.domain_blocks[0].domain",
            "missing",
        ),
        (
            "open",
            {
                "domain_blocks": [
                    {"domain": "a.example"},
                    {"domain": "b.example", "severity": "ban"},
                ]
            },
            "policy.domain_blocks[1].severity",
            "invalid value 'ban'",
        ),
        (
            "open",
            {"domain_blocks": [{"domain": "a.example", "reject_media": 1}]},
            "policy.domain_blocks[0].reject_media",
            "boolean",
        ),
        (
            "open",
            {"domain_blocks": [{"domain": "a.example", "reason": "x"}]},
            "policy.domain_blocks[0].reason",
            "unknown key",
        ),
        (
            "open",
            {"domain_blocks": [{"domain": "a b.example"}]},
            "policy.domain_blocks[0].domain",
            "invalid domain",
        ),
        (
            "open",
            {"domain_allows": [{"domain": "a.example", "severity": "x"}]},
            "policy.domain_allows[0].severity",
            "unknown key",
        ),
        ("open", {"rules": [{"pattern": "x"}]}, "policy.rules[0].kind", "missing"),
        ("open", _rule(kind="nope"), "policy.rules[2].kind", "unknown rule kind"),
        (
            "open",
            _rule(kind="keyword", pattern="/[unclosed/"),
            "policy.rules[2].pattern",
            "invalid regex",
        ),
        ("open", _rule(kind="keyword", pattern=""), "policy.rules[2].pattern", "empty"),
        ("open", _rule(kind="keyword", pattern=3), "policy.rules[2].pattern", "array of strings"),
        (
            "open",
            _rule(kind="keyword", pattern="x", action="delete"),
            "policy.rules[2].action",
            "invalid action",
        ),
        (
            "open",
            _rule(kind="keyword", pattern="x", dry_run="no"),
            "policy.rules[2].dry_run",
            "boolean",
        ),
        (
            "open",
            _rule(kind="keyword", pattern="x", patern="y"),
            "policy.rules[2].patern",
            "unknown option",
        ),
        ("open", _rule(kind="hashtag", tags=["ok", 5]), "policy.rules[2].tags[1]", "string"),
        ("open", _rule(kind="object_age", max_age="a week"), "policy.rules[2].max_age", "duration"),
        ("open", _rule(kind="object_age", max_age=0), "policy.rules[2].max_age", "positive"),
        ("open", _rule(kind="mentions"), "policy.rules[2].max", "missing"),
        ("open", _rule(kind="mentions", max=-1), "policy.rules[2].max", "at least 0"),
        ("open", _rule(kind="mentions", max=True), "policy.rules[2].max", "integer"),
        (
            "open",
            _rule(kind="new_account_links", min_age_hours="1"),
            "policy.rules[2].min_age_hours",
            "number",
        ),
        (
            "open",
            _rule(kind="media", allowed_types=["image"]),
            "policy.rules[2].allowed_types[0]",
            "media type",
        ),
        ("open", _rule(kind="vocabulary", accept="Note"), "policy.rules[2].accept", "array"),
        (
            "open",
            _rule(kind="sparql", query="ASK { ?a as:type "),
            "policy.rules[2].query",
            "invalid SPARQL",
        ),
        (
            "open",
            _rule(kind="sparql", query="SELECT ?a WHERE { ?a ?b ?c }"),
            "policy.rules[2].query",
            "ASK",
        ),
        ("open", _rule(kind="sparql"), "policy.rules[2].query", "missing"),
        (
            "open",
            _rule(kind="keyword", pattern="z", name="keyword[0]"),
            "policy.rules[2].name",
            "duplicate",
        ),
    ],
)
def test_errors_name_the_key(mode: str, table: dict[str, Any], key: str, fragment: str) -> None:
    with pytest.raises(PolicyConfigError) as info:
        settings_from_mapping(mode, table)
    assert info.value.key == key
    assert str(info.value).startswith(f"{key}: ")
    assert fragment in str(info.value)


def test_merged_adds_runtime_entries_and_extra_wins() -> None:
    s = settings_from_mapping(
        "open", {"domain_blocks": [{"domain": "a.example", "severity": "silence"}]}
    )
    merged = s.merged(
        [DomainBlock("A.Example."), DomainBlock("*.Bücher.example", "noop")],
        [DomainAllow("friend.example")],
    )
    assert [(b.domain, b.severity) for b in merged.domain_blocks] == [
        ("a.example", "suspend"),
        ("*.xn--bcher-kva.example", "noop"),
    ]
    assert merged.domain_allows == (DomainAllow("friend.example"),)
    assert s.domain_blocks[0].severity == "silence"  # the original is unchanged
