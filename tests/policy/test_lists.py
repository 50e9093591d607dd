"""policy.lists: the list document, Mastodon's CSV, subscription settings and sync plans
as tables (empty list, new entry, changed, admin's own, priorities, excludes, severities,
retraction, review)."""

from __future__ import annotations

import pytest

from policy.errors import PolicyConfigError
from policy.lists import (
    CSV_HEADER,
    Held,
    ListEntry,
    ListFormatError,
    SubscriptionSpec,
    entries_from_csv,
    entries_from_document,
    list_document,
    plan_sync,
    render_csv,
    subscription_from_mapping,
)
from policy.settings import settings_from_mapping

SPAM = ListEntry("block", "spam.example")
SILENCED = ListEntry("block", "quiet.example", "silence", reject_media=True)
NOOP = ListEntry("block", "noop.example", "noop")
FRIEND = ListEntry("allow", "friend.example", public_comment="ours")
SUB, OTHER = 1, 2


def test_document_round_trip() -> None:
    doc = list_document("https://a.example/policy/list.json", "https://a.example/actor",
                        [SPAM, SILENCED, FRIEND], "2026-01-01T00:00:00Z")  # fmt: skip
    assert doc["type"] == "PolicyList" and doc["attributedTo"] == "https://a.example/actor"
    assert sorted(entries_from_document(doc), key=lambda e: e.domain) == [FRIEND, SILENCED, SPAM]


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"type": "Note"}, "type"),
        ({"type": "PolicyList", "blocks": {}}, "blocks"),
        ({"type": "PolicyList", "blocks": [{"domain": "not a domain"}]}, "blocks[0].domain"),
        ({"type": "PolicyList", "blocks": [{"domain": "x.org", "severity": "ban"}]}, "severity"),
        ({"type": "PolicyList", "blocks": [{"domain": "x.org", "obfuscate": "yes"}]}, "obfuscate"),
    ],
)
def test_bad_documents_say_where(doc: dict[str, object], where: str) -> None:
    with pytest.raises(ListFormatError, match=where.replace("[", r"\[").replace("]", r"\]")):
        entries_from_document(doc)


def test_csv_has_mastodons_header_and_reads_back() -> None:
    text = render_csv([SPAM, SILENCED, FRIEND])
    assert text.splitlines()[0] == ",".join(CSV_HEADER)
    assert text.splitlines()[0] == (
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
    )
    assert sorted(entries_from_csv(text), key=lambda e: e.domain) == [SILENCED, SPAM]
    # a bare list of domains (GoToSocial's plain format) is suspended
    assert entries_from_csv("a.example\nb.example\n") == [
        ListEntry("block", "a.example"), ListEntry("block", "b.example")
    ]  # fmt: skip
    with pytest.raises(ListFormatError, match="line 2"):
        entries_from_csv("#domain,#severity\nx.org,ban\n")


def test_subscription_settings_validate_each_key() -> None:
    spec = subscription_from_mapping(
        {"url": "https://a.example/policy/list.json", "mode": "review", "priority": 3,
         "excludes": ["*.Friends.example"], "severities": ["suspend"], "allow_unsigned": True},
        "policy.subscriptions[0]",
    )  # fmt: skip
    assert spec.excludes == ("*.friends.example",) and spec.severities == ("suspend",)
    for bad, key in (
        ({"mode": "apply"}, "url"),
        ({"url": "ftp://x"}, "url"),
        ({"url": "https://x", "mode": "auto"}, "mode"),
        ({"url": "https://x", "priority": 256}, "priority"),
        ({"url": "https://x", "severities": ["ban"]}, "severities"),
        ({"url": "https://x", "allow_unsigned": "yes"}, "allow_unsigned"),
        ({"url": "https://x", "colour": 1}, "colour"),
    ):
        with pytest.raises(PolicyConfigError) as caught:
            subscription_from_mapping(bad, "policy.subscriptions[0]")
        assert caught.value.key == f"policy.subscriptions[0].{key}"


def test_config_takes_subscriptions_and_publish_flags() -> None:
    settings = settings_from_mapping(
        "open",
        {
            "domain_blocks": [{"domain": "Spam.example", "publish": True}, {"domain": "b.org"}],
            "domain_allows": [{"domain": "friend.example", "publish": True}],
            "subscriptions": [{"url": "https://a.example/policy/list.json"}],
        },
    )
    assert settings.published == {("block", "spam.example"), ("allow", "friend.example")}
    assert settings.subscriptions == (SubscriptionSpec("https://a.example/policy/list.json"),)
    with pytest.raises(PolicyConfigError, match=r"policy.subscriptions\[1\].url"):
        settings_from_mapping(
            "open", {"subscriptions": [{"url": "https://x"}, {"url": "https://x"}]}
        )


APPLY = SubscriptionSpec("https://a.example/l.json", priority=10)
REVIEW = SubscriptionSpec("https://a.example/l.json", mode="review", priority=10)


@pytest.mark.parametrize(
    ("spec", "upstream", "held", "expected"),
    [
        pytest.param(APPLY, [], {}, {}, id="empty list, nothing held"),
        pytest.param(APPLY, [SPAM], {}, {"create": [SPAM]}, id="new entry"),
        pytest.param(REVIEW, [SPAM], {}, {"drafts": [SPAM]}, id="review: a draft"),
        pytest.param(APPLY, [SPAM], {SPAM.key: Held(SPAM, SUB, 10)}, {}, id="unchanged"),
        pytest.param(APPLY, [ListEntry("block", "spam.example", "silence")],
                     {SPAM.key: Held(SPAM, SUB, 10)},
                     {"update": [ListEntry("block", "spam.example", "silence")]}, id="changed"),
        pytest.param(APPLY, [SPAM], {SPAM.key: Held(SPAM, None)}, {"skipped": [SPAM]},
                     id="the admin's own is never touched"),
        pytest.param(APPLY, [SPAM], {SPAM.key: Held(SPAM, OTHER, 200)}, {"skipped": [SPAM]},
                     id="a higher list keeps it"),
        pytest.param(APPLY, [SPAM], {SPAM.key: Held(SPAM, OTHER, 5)}, {"take_over": [SPAM]},
                     id="a lower list gives it up"),
        pytest.param(APPLY, [], {SPAM.key: Held(SPAM, SUB, 10)}, {"retract": [SPAM]},
                     id="retracted upstream"),
        pytest.param(APPLY, [], {SPAM.key: Held(SPAM, None)}, {}, id="adopted: not retracted"),
        pytest.param(REVIEW, [], {SPAM.key: Held(SPAM, SUB, 10)}, {},
                     id="review: retractions wait for the admin"),
        pytest.param(SubscriptionSpec("u", excludes=("*.spam.example",)), [SPAM], {}, {},
                     id="excluded by wildcard"),
        pytest.param(SubscriptionSpec("u", severities=("suspend",)), [NOOP, SPAM], {},
                     {"create": [SPAM]}, id="severity not taken"),
        pytest.param(APPLY, [FRIEND], {}, {"create": [FRIEND]}, id="allows too"),
    ],
)  # fmt: skip
def test_plan_sync(
    spec: SubscriptionSpec,
    upstream: list[ListEntry],
    held: dict[tuple[str, str], Held],
    expected: dict[str, list[ListEntry]],
) -> None:
    plan = plan_sync(SUB, spec, upstream, held)  # type: ignore[arg-type]
    for name in ("create", "update", "take_over", "retract", "drafts", "skipped"):
        assert list(getattr(plan, name)) == expected.get(name, []), name
