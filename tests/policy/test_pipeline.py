"""Pipeline: modes × directions, domain-block flags, order, dry run, explain, describe."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import pytest
from policy_samples import (
    BOB,
    NOW,
    PUBLIC,
    create,
    ctx,
    note,
    pipeline,
    retraction,
    verdict_of,
)

from policy.audit import Decision
from policy.base import Accept, Policy, PolicyContext, Reject, Verdict
from policy.pipeline import Pipeline, obfuscate_domain
from policy.settings import settings_from_mapping

DIRECTIONS = ["inbound", "outbound", "fetch"]
BLOCKS = [{"domain": "*.spam.example"}, {"domain": "quiet.example", "severity": "silence"}]
ALLOWS = [{"domain": "*.friends.example"}, {"domain": "b.example"}, {"domain": "spam.example"}]


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize(
    ("mode", "host", "allowed", "rule"),
    [
        ("open", "anyone.example", True, ""),
        ("open", "spam.example", False, "domain_block:*.spam.example"),
        ("open", "a.spam.example:8443", False, "domain_block:*.spam.example"),
        ("open", "quiet.example", True, ""),  # silence limits content, not the connection
        ("allowlist", "b.example", True, ""),
        ("allowlist", "b.example:8080", True, ""),
        ("allowlist", "friends.example", True, ""),
        ("allowlist", "x.friends.example", True, ""),
        ("allowlist", "anyone.example", False, "mode:allowlist"),
        ("allowlist", "spam.example", False, "domain_block:*.spam.example"),  # block beats allow
        ("allowlist", "quiet.example", False, "mode:allowlist"),
        ("closed", "b.example", False, "mode:closed"),
        ("closed", "anyone.example", False, "mode:closed"),
    ],
)
def test_check_host(mode: str, host: str, allowed: bool, rule: str, direction: Any) -> None:
    p = pipeline(mode=mode, blocks=BLOCKS, allows=ALLOWS)
    decision = p.check_host(host, direction)
    assert (decision.allowed, decision.rule, decision.enforced) == (allowed, rule, True)
    actor = f"https://{host}/users/bob"
    outcome = p.run(create(actor=actor), ctx(host, direction, actor=actor))
    assert outcome.accepted is allowed


@pytest.mark.parametrize("mode", ["allowlist", "closed"])
def test_check_host_dry_run_allows_but_names_rule(mode: str) -> None:
    p = pipeline(mode=mode, dry_run=True)
    decision = p.check_host("anyone.example", "outbound")
    assert decision.allowed and not decision.enforced and decision.rule == f"mode:{mode}"
    actor = "https://anyone.example/users/bob"
    outcome = p.run(create(actor=actor), ctx("anyone.example", actor=actor))
    assert outcome.accepted
    assert [(d.rule, d.enforced) for d in outcome.decisions] == [(f"mode:{mode}", False)]


def test_relayed_activity_from_suspended_actor_host() -> None:
    p = pipeline(blocks=BLOCKS)
    relayed = create(actor="https://x.spam.example/users/eve")
    outcome = p.run(relayed, ctx("relay.example", actor=None))
    assert not outcome.accepted
    assert outcome.decisions[0].rule == "domain_block:*.spam.example"


@pytest.mark.parametrize("kind", ["Delete", "Undo", "Block", "Create"])
def test_suspension_applies_to_retractions(kind: str) -> None:
    p = pipeline(blocks=BLOCKS)
    assert (
        verdict_of(p, retraction(kind, "https://spam.example/1"), ctx("spam.example")) == "reject"
    )


def _flagged(**flags: Any) -> Pipeline:
    return pipeline(blocks=[{"domain": "remote.example", "severity": "noop", **flags}])


def _actor_update() -> dict[str, Any]:
    person = {
        "id": BOB,
        "type": "Person",
        "icon": {"type": "Image", "url": "https://remote.example/a.png"},
        "image": {"type": "Image", "url": "https://remote.example/b.png"},
        "attachment": [{"type": "PropertyValue", "name": "site", "value": "x"}],
    }
    return {"id": BOB + "#update", "type": "Update", "actor": BOB, "to": [PUBLIC], "object": person}


MEDIA_NOTE = create(note("x", attachment=[{"type": "Image", "mediaType": "image/png"}]))
FLAG = {
    "id": "https://remote.example/flag/1",
    "type": "Flag",
    "actor": BOB,
    "object": ["https://local.example/u/a"],
}


@pytest.mark.parametrize(
    ("flags", "activity", "expected"),
    [
        ({}, create(), "accept"),
        ({"severity": "silence"}, create(), "rewrite:unlist"),
        (
            {"severity": "silence"},
            create(note(to=[BOB + "/followers"]), to=[BOB + "/followers"]),
            "accept",
        ),
        ({"federated_timeline_removal": True}, create(), "rewrite:unlist"),
        ({"followers_only": True}, create(), "rewrite:followers_only"),
        ({"reject_media": True}, MEDIA_NOTE, "rewrite:strip_media"),
        ({"reject_media": True}, create(), "accept"),
        ({"reject_reports": True}, FLAG, "reject"),
        ({"reject_reports": False}, FLAG, "accept"),
        ({"reject_deletes": True}, retraction("Delete", BOB + "/statuses/1"), "reject"),
        ({"reject_deletes": True}, retraction("Undo", BOB + "#follow"), "accept"),
        ({"avatar_removal": True}, _actor_update(), "rewrite:avatar_removal"),
        ({"banner_removal": True}, _actor_update(), "rewrite:banner_removal"),
        ({"reject_media": True}, _actor_update(), "accept"),  # profile fields are not media
        # retractions skip every flag but suspension and reject_deletes
        ({"severity": "silence", "followers_only": True}, retraction("Delete", note()), "accept"),
        ({"reject_media": True}, retraction("Undo", MEDIA_NOTE), "accept"),
    ],
)
def test_domain_block_flags(flags: dict[str, Any], activity: dict[str, Any], expected: str) -> None:
    before = copy.deepcopy(activity)
    assert verdict_of(_flagged(**flags), activity, ctx()) == expected
    assert activity == before


def test_flag_rewrites_are_visible() -> None:
    silenced = _flagged(severity="silence").run(create(), ctx()).activity
    assert silenced is not None
    assert PUBLIC not in silenced["to"] and PUBLIC in silenced["cc"]
    assert PUBLIC not in silenced["object"]["to"] and PUBLIC in silenced["object"]["cc"]
    followers = _flagged(followers_only=True).run(create(), ctx()).activity
    assert followers is not None
    assert PUBLIC not in followers["to"] + followers["cc"]
    assert PUBLIC not in followers["object"]["to"] + followers["object"]["cc"]
    stripped = _flagged(reject_media=True).run(MEDIA_NOTE, ctx()).activity
    assert stripped is not None and "attachment" not in stripped["object"]
    person = _flagged(avatar_removal=True, banner_removal=True).run(_actor_update(), ctx()).activity
    assert person is not None
    assert "icon" not in person["object"] and "image" not in person["object"]
    assert person["object"]["attachment"]  # profile fields kept


def test_wildcard_flags_apply_to_subdomains() -> None:
    p = pipeline(blocks=[{"domain": "*.quiet.example", "severity": "silence"}])
    assert verdict_of(p, create(), ctx("social.quiet.example")) == "rewrite:unlist"
    assert verdict_of(p, create(), ctx("loud.example", actor=None)) == "accept"


def test_local_outbound_checks_host_only() -> None:
    p = pipeline(blocks=BLOCKS, rules=[{"kind": "keyword", "pattern": "hello"}])
    local = create(actor="https://local.example/users/alice")
    ok = p.run(local, ctx("b.example", "outbound", local=True))
    assert ok.accepted and ok.activity == local and ok.decisions == ()
    refused = p.run(local, ctx("spam.example", "outbound", local=True))
    assert not refused.accepted
    assert [(d.rule, d.direction) for d in refused.decisions] == [
        ("domain_block:*.spam.example", "outbound")
    ]
    # inbound local (e.g. processing our own outbox) is never checked
    assert p.run(local, ctx("", "inbound", local=True)).decisions == ()


def test_first_reject_wins_and_rewrites_chain() -> None:
    rules = [
        {"kind": "keyword", "pattern": "hello", "action": "sensitive"},
        {"kind": "keyword", "pattern": "world", "action": "unlist"},
        {"kind": "keyword", "pattern": "hello", "name": "first-reject"},
        {"kind": "keyword", "pattern": "world", "name": "second-reject"},
    ]
    outcome = pipeline(rules=rules).run(create(), ctx())
    assert not outcome.accepted and outcome.activity is None
    assert [(d.rule, d.action) for d in outcome.decisions] == [
        ("keyword[0]", "sensitive"),
        ("keyword[1]", "unlist"),
        ("first-reject", "reject"),
    ]
    chained = pipeline(rules=rules[:2]).run(create(), ctx())
    assert chained.activity is not None
    assert chained.activity["object"]["sensitive"] is True
    assert PUBLIC in chained.activity["object"]["cc"]


def test_a_rewrite_is_seen_by_later_rules() -> None:
    rules = [
        {"kind": "keyword", "pattern": "hello", "action": "strip_media"},
        {"kind": "media", "max_count": 0},
    ]
    assert verdict_of(pipeline(rules=rules), MEDIA_NOTE, ctx()) == "reject"
    media = create(note("hello", attachment=[{"type": "Image", "mediaType": "image/png"}]))
    assert verdict_of(pipeline(rules=rules), media, ctx()) == "rewrite:strip_media"


def test_dry_run_rule_does_not_stop_later_rules() -> None:
    rules = [
        {"kind": "keyword", "pattern": "hello", "dry_run": True},
        {"kind": "keyword", "pattern": "world", "action": "unlist"},
    ]
    outcome = pipeline(rules=rules).run(create(), ctx())
    assert outcome.accepted
    assert [(d.rule, d.action, d.enforced) for d in outcome.decisions] == [
        ("keyword[0]", "reject", False),
        ("keyword[1]", "unlist", True),
    ]


def test_global_dry_run_flags_pass_unchanged() -> None:
    p = pipeline(dry_run=True, blocks=[{"domain": "remote.example", "severity": "silence"}])
    activity = create()
    outcome = p.run(activity, ctx())
    assert outcome.activity == activity
    assert [(d.action, d.enforced) for d in outcome.decisions] == [("unlist", False)]


def test_run_never_mutates_input() -> None:
    rules = [
        {"kind": "keyword", "pattern": "hello", "action": action}
        for action in ("unlist", "sensitive", "strip_media", "followers_only")
    ]
    activity = create(note(attachment=[{"type": "Image", "mediaType": "image/png"}]))
    before = copy.deepcopy(activity)
    outcome = pipeline(rules=rules).run(activity, ctx())
    assert activity == before
    assert outcome.activity is not None and outcome.activity != before


def test_decision_json_has_contract_fields() -> None:
    outcome = pipeline(rules=[{"kind": "keyword", "pattern": "hello"}]).run(create(), ctx())
    line = outcome.decisions[0].to_json()
    assert line == {
        "time": NOW.isoformat(),
        "direction": "inbound",
        "peer": "remote.example",
        "actor": BOB,
        "activity_id": "https://remote.example/users/bob/statuses/1/activity",
        "activity_type": "Create",
        "rule": "keyword[0]",
        "action": "reject",
        "enforced": True,
        "reason": "keyword 'hello'",
    }
    json.dumps(line)
    assert isinstance(outcome.decisions[0], Decision)


def test_explain_lists_every_rule_even_after_reject() -> None:
    rules = [
        {"kind": "keyword", "pattern": "hello"},
        {"kind": "keyword", "pattern": "world", "action": "unlist", "dry_run": True},
        {"kind": "hashtag", "tags": ["nope"]},
    ]
    p = pipeline(rules=rules, blocks=[{"domain": "remote.example", "severity": "silence"}])
    lines = [v.to_json() for v in p.explain(create(), ctx())]
    assert [(x["rule"], x["verdict"], x["enforced"]) for x in lines] == [
        ("host:remote.example", "accept", True),
        ("domain_block:remote.example", "rewrite", True),
        ("keyword[0]", "reject", True),
        ("keyword[1]", "rewrite", False),
        ("hashtag[2]", "accept", True),
    ]
    retracted = p.explain(retraction("Delete", note()), ctx())
    assert [v.applies for v in retracted if v.rule.startswith("keyword")] == [False, False]


def test_describe_and_obfuscation() -> None:
    blocks = [
        {
            "domain": "spam.example",
            "public_comment": "spam",
            "private_comment": "ticket 9",
            "obfuscate": True,
        },
        {"domain": "quiet.example", "severity": "silence", "reject_media": True},
    ]
    p = pipeline(
        mode="open",
        blocks=blocks,
        allows=[{"domain": "b.example", "public_comment": "pal"}],
        rules=[{"kind": "keyword", "pattern": "secret words"}],
    )
    public = p.describe()
    assert public["mode"] == "open" and public["dry_run"] is False
    spam, quiet = public["domain_blocks"]
    assert spam["domain"] == obfuscate_domain("spam.example") == "spam.****ple"
    assert spam["severity"] == "suspend" and spam["comment"] == "spam"
    assert len(spam["digest"]) == 64 and "private_comment" not in spam
    assert quiet["domain"] == "quiet.example" and quiet["reject_media"] is True
    assert public["domain_allows"] == [{"domain": "b.example", "comment": "pal"}]
    assert public["rule_kinds"] == ["keyword"]
    assert "secret words" not in json.dumps(public)
    private = p.describe(private=True)
    assert private["domain_blocks"][0]["domain"] == "spam.example"
    assert private["domain_blocks"][0]["private_comment"] == "ticket 9"
    assert "secret words" in json.dumps(private)


def test_domain_block_for() -> None:
    p = pipeline(blocks=BLOCKS)
    found = p.domain_block_for("a.spam.example:443")
    assert found is not None and found.domain == "*.spam.example"
    assert p.domain_block_for("fine.example") is None


class RejectAnnounces:
    """A third-party policy honouring only the Protocol."""

    name = "no-announces"
    dry_run = False

    def filter(self, activity: Mapping[str, Any], ctx: PolicyContext) -> Verdict:
        return Reject("no boosts") if activity.get("type") == "Announce" else Accept()

    def describe(self) -> dict[str, Any]:
        return {"kind": "custom", "name": self.name}


def test_extra_protocol_policy() -> None:
    extra: Policy = RejectAnnounces()
    p = Pipeline(settings_from_mapping("open", {}), extra_policies=[extra])
    boost = {
        "id": "https://remote.example/b/1",
        "type": "Announce",
        "actor": BOB,
        "object": "https://c.example/1",
    }
    assert verdict_of(p, boost, ctx()) == "reject"
    assert verdict_of(p, create(), ctx()) == "accept"
    assert p.describe()["rule_kinds"] == ["custom"]


def test_sparql_tolerates_odd_keys_and_mapping_input() -> None:
    from types import MappingProxyType

    p = pipeline(
        rules=[
            {
                "kind": "sparql",
                "query": "ASK { ?activity as:object ?o . ?o as:quoteUrl <https://q.example/1> }",
            }
        ]
    )
    obj = note(
        "x",
        **{
            "quoteUrl": "https://q.example/1",
            "toot:discoverable": True,
            "odd key é": "v",
            "_misskey_content": "x",
        },
    )
    activity = MappingProxyType(create(obj))
    assert verdict_of(p, activity, ctx()) == "reject"  # type: ignore[arg-type]


def test_explain_local_activity_only_outbound_host() -> None:
    p = pipeline(blocks=BLOCKS, rules=[{"kind": "keyword", "pattern": "hello"}])
    lines = p.explain(create(), ctx("spam.example", "outbound", local=True))
    assert [(v.rule, type(v.verdict).__name__, v.applies) for v in lines] == [
        ("domain_block:*.spam.example", "Reject", True),
        ("keyword[0]", "Reject", False),
    ]
    assert lines[1].note == "local activity"


def test_import_has_no_side_effects() -> None:
    import subprocess
    import sys

    code = "import sys, policy; assert 'rdflib' not in sys.modules, 'rdflib loaded eagerly'"
    subprocess.run([sys.executable, "-c", code], check=True)
