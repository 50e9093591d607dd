"""Every rule kind × {empty config, match, wildcard, no match, local, retraction, dry run}."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from policy_samples import (
    BOB,
    PUBLIC,
    akkoma_create,
    create,
    ctx,
    misskey_create,
    note,
    pipeline,
    retraction,
    verdict_of,
)

from policy.base import Accept, Reject, Rewrite
from policy.rules import RULE_KINDS, build_rule
from policy.settings import settings_from_mapping

H = "https://remote.example/tags/"


def hashtag(name: str) -> dict[str, str]:
    return {"type": "Hashtag", "href": H + name.lstrip("#"), "name": name}


def mention(actor: str) -> dict[str, str]:
    return {"type": "Mention", "href": actor, "name": "@x"}


def image(media_type: str = "image/png", **extra: Any) -> dict[str, Any]:
    return {
        "type": "Document",
        "mediaType": media_type,
        "url": "https://remote.example/m.png",
        **extra,
    }


def rule(kind: str, **options: Any) -> dict[str, Any]:
    return {"kind": kind, **options}


# (id, rule table, activity, context kwargs, expected enforced verdict)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], str]] = [
    # keyword
    (
        "keyword/empty-list",
        rule("keyword", pattern=[]),
        create(note("buy cheap pills")),
        {},
        "accept",
    ),
    (
        "keyword/match",
        rule("keyword", pattern="buy cheap"),
        create(note("<p>BUY Cheap pills</p>")),
        {},
        "reject",
    ),
    (
        "keyword/match-across-tags",
        rule("keyword", pattern="buy cheap"),
        create(note("<p>buy <b>cheap</b></p>")),
        {},
        "reject",
    ),
    (
        "keyword/match-entity",
        rule("keyword", pattern="fish & chips"),
        create(note("<p>fish &amp; chips</p>")),
        {},
        "reject",
    ),
    (
        "keyword/summary",
        rule("keyword", pattern="spoiler"),
        create(note("x", summary="Spoiler ahead")),
        {},
        "reject",
    ),
    (
        "keyword/name",
        rule("keyword", pattern="poll spam"),
        create(note("x", name="Poll SPAM")),
        {},
        "reject",
    ),
    (
        "keyword/contentMap",
        rule("keyword", pattern="kaufen"),
        create(note("x", contentMap={"de": "Jetzt KAUFEN"})),
        {},
        "reject",
    ),
    (
        "keyword/regex",
        rule("keyword", pattern=r"/b[uo]y\s+now/i"),
        create(note("BOY   now")),
        {},
        "reject",
    ),
    (
        "keyword/regex-case-sensitive",
        rule("keyword", pattern=r"/buy now/"),
        create(note("BUY NOW")),
        {},
        "accept",
    ),
    (
        "keyword/list-second",
        rule("keyword", pattern=["aaa", "zzz"]),
        create(note("zzz")),
        {},
        "reject",
    ),
    (
        "keyword/no-match",
        rule("keyword", pattern="buy cheap"),
        create(note("buy expensive")),
        {},
        "accept",
    ),
    (
        "keyword/href",
        rule("keyword", pattern="spam.link"),
        create(note('<a href="https://spam.link/x">here</a>')),
        {},
        "reject",
    ),
    (
        "keyword/persian",
        rule("keyword", pattern="سلام"),
        create(note("<p>سلام دنیا</p>")),
        {},
        "reject",
    ),
    (
        "keyword/hebrew-no-match",
        rule("keyword", pattern="שלום"),
        create(note("<p>سلام دنیا</p>")),
        {},
        "accept",
    ),
    (
        "keyword/casefold-sharp-s",
        rule("keyword", pattern="Straße"),
        create(note("IN DER STRASSE")),
        {},
        "reject",
    ),
    (
        "keyword/nfc",
        rule("keyword", pattern="café"),
        create(note("cafe\u0301 au lait")),
        {},
        "reject",
    ),
    (
        "keyword/unlist",
        rule("keyword", pattern="meh", action="unlist"),
        create(note("meh")),
        {},
        "rewrite:unlist",
    ),
    (
        "keyword/sensitive",
        rule("keyword", pattern="gore", action="sensitive"),
        create(note("gore")),
        {},
        "rewrite:sensitive",
    ),
    (
        "keyword/strip_media",
        rule("keyword", pattern="pic", action="strip_media"),
        create(note("pic", attachment=[image()])),
        {},
        "rewrite:strip_media",
    ),
    ("keyword/akkoma", rule("keyword", pattern="buy"), akkoma_create("buy"), {}, "reject"),
    ("keyword/misskey", rule("keyword", pattern="buy"), misskey_create("buy"), {}, "reject"),
    (
        "keyword/announce-id-only",
        rule("keyword", pattern="buy"),
        {"type": "Announce", "actor": BOB, "object": "https://x.example/1"},
        {},
        "accept",
    ),
    (
        "keyword/announce-embedded",
        rule("keyword", pattern="buy"),
        {"type": "Announce", "actor": BOB, "object": note("buy")},
        {},
        "reject",
    ),
    (
        "keyword/like-ignored",
        rule("keyword", pattern="buy"),
        {"type": "Like", "actor": BOB, "object": note("buy")},
        {},
        "accept",
    ),
    # hashtag
    (
        "hashtag/empty",
        rule("hashtag", tags=[]),
        create(note("x", tag=[hashtag("#spam")])),
        {},
        "accept",
    ),
    (
        "hashtag/match",
        rule("hashtag", tags=["spam"]),
        create(note("x", tag=[hashtag("#Spam")])),
        {},
        "reject",
    ),
    (
        "hashtag/match-with-hash",
        rule("hashtag", tags=["#spam"]),
        create(note("x", tag=[hashtag("spam")])),
        {},
        "reject",
    ),
    (
        "hashtag/wildcard",
        rule("hashtag", tags=["crypto*"]),
        create(note("x", tag=[hashtag("#CryptoGains")])),
        {},
        "reject",
    ),
    (
        "hashtag/no-match",
        rule("hashtag", tags=["spam"]),
        create(note("x", tag=[hashtag("#spamless")])),
        {},
        "accept",
    ),
    (
        "hashtag/mention-not-hashtag",
        rule("hashtag", tags=["spam"]),
        create(note("x", tag=[{"type": "Mention", "name": "spam"}])),
        {},
        "accept",
    ),
    (
        "hashtag/cjk",
        rule("hashtag", tags=["#日本"]),
        create(note("x", tag=[hashtag("日本")])),
        {},
        "reject",
    ),
    (
        "hashtag/persian",
        rule("hashtag", tags=["سلام"]),
        create(note("x", tag=[hashtag("#سلام")])),
        {},
        "reject",
    ),
    (
        "hashtag/sharp-s",
        rule("hashtag", tags=["straße"]),
        create(note("x", tag=[hashtag("#STRASSE")])),
        {},
        "reject",
    ),
    (
        "hashtag/tag-as-dict",
        rule("hashtag", tags=["spam"]),
        akkoma_create("x", tag=hashtag("#spam")),
        {},
        "reject",
    ),
    (
        "hashtag/misskey",
        rule("hashtag", tags=["spam"]),
        misskey_create("x", tag=[hashtag("#spam")]),
        {},
        "reject",
    ),
    (
        "hashtag/unlist",
        rule("hashtag", tags=["nsfw"], action="sensitive"),
        create(note("x", tag=[hashtag("#nsfw")])),
        {},
        "rewrite:sensitive",
    ),
    # object_age
    (
        "object_age/match-seconds",
        rule("object_age", max_age=3600),
        create(note(published="2025-12-31T12:00:00Z")),
        {},
        "reject",
    ),
    (
        "object_age/match-days",
        rule("object_age", max_age="7d"),
        create(note(published="2025-12-01T00:00:00+00:00")),
        {},
        "reject",
    ),
    (
        "object_age/no-match",
        rule("object_age", max_age="7d"),
        create(note(published="2025-12-31T12:00:00Z")),
        {},
        "accept",
    ),
    (
        "object_age/naive-is-utc",
        rule("object_age", max_age="12h"),
        create(note(published="2026-01-01T01:00:00")),
        {},
        "accept",
    ),
    (
        "object_age/unparseable",
        rule("object_age", max_age="1h"),
        create(note(published="yesterday")),
        {},
        "accept",
    ),
    (
        "object_age/unlist",
        rule("object_age", max_age="1d", action="unlist"),
        create(note(published="2025-01-01T00:00:00Z")),
        {},
        "rewrite:unlist",
    ),
    # mentions
    (
        "mentions/match",
        rule("mentions", max=2),
        create(note("x", tag=[mention(f"https://a.example/u/{i}") for i in range(3)])),
        {},
        "reject",
    ),
    (
        "mentions/dedupe-tag-and-cc",
        rule("mentions", max=2),
        create(
            note(
                "x",
                cc=["https://a.example/u/1", "https://a.example/u/2"],
                tag=[mention("https://a.example/u/1"), mention("https://a.example/u/2")],
            )
        ),
        {},
        "accept",
    ),
    (
        "mentions/to-cc-count",
        rule("mentions", max=1),
        create(
            note(
                "x",
                to=["https://a.example/u/1", PUBLIC],
                cc=["https://a.example/u/2", BOB + "/followers"],
            )
        ),
        {},
        "reject",
    ),
    ("mentions/public-followers-ignored", rule("mentions", max=0), create(note("x")), {}, "accept"),
    (
        "mentions/zero",
        rule("mentions", max=0),
        create(note("x", tag=[mention("https://a.example/u/1")])),
        {},
        "reject",
    ),
    # new_account_links
    (
        "new_account_links/match",
        rule("new_account_links", min_age_hours=24),
        create(note('<a href="https://buy.example/">deal</a>')),
        {"first_seen_hours_ago": 1},
        "reject",
    ),
    (
        "new_account_links/bare-url",
        rule("new_account_links", min_age_hours=24),
        create(note("see https://buy.example/x now")),
        {"first_seen_hours_ago": 1},
        "reject",
    ),
    (
        "new_account_links/old-account",
        rule("new_account_links", min_age_hours=24),
        create(note('<a href="https://buy.example/">deal</a>')),
        {"first_seen_hours_ago": 48},
        "accept",
    ),
    (
        "new_account_links/unknown-age",
        rule("new_account_links", min_age_hours=24),
        create(note('<a href="https://buy.example/">deal</a>')),
        {},
        "accept",
    ),
    (
        "new_account_links/mention-not-link",
        rule("new_account_links", min_age_hours=24),
        create(
            note(
                '<span class="h-card"><a href="https://a.example/@x" class="u-url mention">@x</a></span>',
                tag=[mention("https://a.example/@x")],
            )
        ),
        {"first_seen_hours_ago": 1},
        "accept",
    ),
    (
        "new_account_links/hashtag-not-link",
        rule("new_account_links", min_age_hours=24),
        create(
            note(
                '<a href="https://remote.example/tags/cats" rel="tag" class="mention hashtag">#cats</a>',
                tag=[hashtag("#cats")],
            )
        ),
        {"first_seen_hours_ago": 1},
        "accept",
    ),
    (
        "new_account_links/no-links",
        rule("new_account_links", min_age_hours=24),
        create(note("just text")),
        {"first_seen_hours_ago": 1},
        "accept",
    ),
    # media
    ("media/empty", rule("media"), create(note("x", attachment=[image()] * 9)), {}, "accept"),
    (
        "media/max_count",
        rule("media", max_count=2),
        create(note("x", attachment=[image()] * 3)),
        {},
        "reject",
    ),
    (
        "media/max_count-ok",
        rule("media", max_count=4),
        create(note("x", attachment=[image()] * 3)),
        {},
        "accept",
    ),
    (
        "media/type-wildcard-ok",
        rule("media", allowed_types=["image/*"]),
        create(note("x", attachment=[image("image/webp")])),
        {},
        "accept",
    ),
    (
        "media/type-refused",
        rule("media", allowed_types=["image/*"]),
        create(note("x", attachment=[image("video/mp4")])),
        {},
        "reject",
    ),
    (
        "media/type-exact",
        rule("media", allowed_types=["video/mp4"]),
        create(note("x", attachment=[image("video/mp4; codecs=avc1")])),
        {},
        "accept",
    ),
    (
        "media/size",
        rule("media", max_size=1000),
        create(note("x", attachment=[image(size=5000)])),
        {},
        "reject",
    ),
    (
        "media/size-unknown",
        rule("media", max_size=1000),
        create(note("x", attachment=[image()])),
        {},
        "accept",
    ),
    (
        "media/attachment-as-dict",
        rule("media", max_count=0),
        create(note("x", attachment=image())),
        {},
        "reject",
    ),
    (
        "media/strip",
        rule("media", allowed_types=["image/*"], action="strip_media"),
        create(note("x", attachment=[image("audio/ogg")])),
        {},
        "rewrite:strip_media",
    ),
    # vocabulary
    ("vocabulary/empty", rule("vocabulary"), create(), {}, "accept"),
    ("vocabulary/reject-activity", rule("vocabulary", reject=["Create"]), create(), {}, "reject"),
    (
        "vocabulary/reject-object",
        rule("vocabulary", reject=["Question"]),
        create(note(type="Question")),
        {},
        "reject",
    ),
    (
        "vocabulary/accept-miss",
        rule("vocabulary", accept=["Create", "Note"]),
        create(note(type="Article")),
        {},
        "reject",
    ),
    (
        "vocabulary/accept-hit",
        rule("vocabulary", accept=["Create", "Note"]),
        create(),
        {},
        "accept",
    ),
    (
        "vocabulary/type-list",
        rule("vocabulary", reject=["ChatMessage"]),
        create(note(type=["Note", "ChatMessage"])),
        {},
        "reject",
    ),
    # sparql
    (
        "sparql/match",
        rule("sparql", query="ASK { ?activity as:object ?o . ?o as:sensitive true }"),
        create(note(sensitive=True)),
        {},
        "reject",
    ),
    (
        "sparql/no-match",
        rule("sparql", query="ASK { ?activity as:object ?o . ?o as:sensitive true }"),
        create(note(sensitive=False)),
        {},
        "accept",
    ),
    (
        "sparql/rdf-type",
        rule("sparql", query="ASK { ?activity as:object ?o . ?o a as:Question }"),
        create(note(type="Question")),
        {},
        "reject",
    ),
    (
        "sparql/public-short-form",
        rule("sparql", query="ASK { ?activity as:to as:Public }", action="unlist"),
        misskey_create("x"),
        {},
        "rewrite:unlist",
    ),
    (
        "sparql/ids-join",
        rule(
            "sparql",
            query=f"ASK {{ ?activity as:actor <{BOB}> ; as:object ?o . ?o as:attributedTo <{BOB}> }}",
        ),
        create(),
        {},
        "reject",
    ),
    (
        "sparql/regex-filter",
        rule(
            "sparql",
            query='ASK { ?activity as:object/as:content ?c FILTER regex(?c, "casino", "i") }',
        ),
        create(note("CASINO")),
        {},
        "reject",
    ),
]


@pytest.mark.parametrize(
    ("table", "activity", "context", "expected"),
    [pytest.param(t, a, c, e, id=i) for i, t, a, c, e in CASES],
)
def test_rule_table(
    table: dict[str, Any], activity: dict[str, Any], context: dict[str, Any], expected: str
) -> None:
    p = pipeline(rules=[table])
    assert verdict_of(p, activity, ctx(**context)) == expected


def test_every_kind_has_cases() -> None:
    covered = {case[0].split("/")[0] for case in CASES}
    assert covered == set(RULE_KINDS)


# One matching (rule, activity, context) per kind: the cross-cutting rows.
MATCHING: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "keyword": (rule("keyword", pattern="buy"), create(note("buy")), {}),
    "hashtag": (rule("hashtag", tags=["spam"]), create(note("x", tag=[hashtag("#spam")])), {}),
    "object_age": (rule("object_age", max_age="1h"), create(), {}),
    "mentions": (
        rule("mentions", max=0),
        create(note("x", tag=[mention("https://a.example/u")])),
        {},
    ),
    "new_account_links": (
        rule("new_account_links", min_age_hours=1),
        create(note('<a href="https://x.example">x</a>')),
        {"first_seen_hours_ago": 0.5},
    ),
    "media": (rule("media", max_count=0), create(note("x", attachment=[image()])), {}),
    "vocabulary": (rule("vocabulary", reject=["Note"]), create(), {}),
    "sparql": (rule("sparql", query="ASK { ?activity as:object ?o . ?o a as:Note }"), create(), {}),
}


@pytest.mark.parametrize("kind", sorted(MATCHING))
def test_no_rules_accepts(kind: str) -> None:
    _, activity, context = MATCHING[kind]
    assert verdict_of(pipeline(), activity, ctx(**context)) == "accept"


@pytest.mark.parametrize("kind", sorted(MATCHING))
def test_matching_sample_rejects(kind: str) -> None:
    table, activity, context = MATCHING[kind]
    outcome = pipeline(rules=[table]).run(activity, ctx(**context))
    assert outcome.activity is None and not outcome.accepted
    assert [(d.rule, d.action, d.enforced) for d in outcome.decisions] == [
        (f"{kind}[0]", "reject", True)
    ]


@pytest.mark.parametrize("kind", sorted(MATCHING))
def test_local_activity_untouched(kind: str) -> None:
    table, activity, context = MATCHING[kind]
    local = ctx(**context, local=True, peer="")
    outcome = pipeline(rules=[table]).run(activity, local)
    assert outcome.accepted and outcome.activity == activity and outcome.decisions == ()


@pytest.mark.parametrize("kind", sorted(MATCHING))
@pytest.mark.parametrize("retraction_type", ["Delete", "Undo", "Block"])
def test_retraction_exempt(kind: str, retraction_type: str) -> None:
    table, activity, context = MATCHING[kind]
    # A rule refusing the retraction type itself must still let it through.
    rules = [table, rule("vocabulary", reject=[retraction_type], name="no-retractions")]
    wrapped = retraction(retraction_type, activity["object"])
    outcome = pipeline(rules=rules).run(wrapped, ctx(**context))
    assert outcome.accepted and outcome.activity == wrapped and outcome.decisions == ()


@pytest.mark.parametrize("kind", sorted(MATCHING))
@pytest.mark.parametrize("where", ["global", "rule"])
def test_dry_run_records_but_passes(kind: str, where: str) -> None:
    table, activity, context = MATCHING[kind]
    if where == "rule":
        p = pipeline(rules=[{**table, "dry_run": True}])
    else:
        p = pipeline(rules=[table], dry_run=True)
    outcome = p.run(activity, ctx(**context))
    assert outcome.accepted and outcome.activity == activity
    assert [(d.rule, d.action, d.enforced) for d in outcome.decisions] == [
        (f"{kind}[0]", "reject", False)
    ]


@pytest.mark.parametrize("kind", sorted(MATCHING))
def test_filter_does_not_mutate_and_describes(kind: str) -> None:
    table, activity, context = MATCHING[kind]
    before = copy.deepcopy(activity)
    settings = settings_from_mapping("open", {"rules": [{**table, "action": "unlist"}]})
    built = build_rule(settings.rules[0])
    verdict = built.filter(activity, ctx(**context))
    assert isinstance(verdict, Rewrite) and verdict.action == "unlist"
    assert verdict.activity["object"]["cc"][0] == PUBLIC
    assert activity == before
    described = built.describe()
    assert described["kind"] == kind and described["action"] == "unlist"
    assert described["name"] == f"{kind}[0]"


def test_filter_verdict_types() -> None:
    settings = settings_from_mapping("open", {"rules": [rule("keyword", pattern="buy")]})
    built = build_rule(settings.rules[0])
    assert built.filter(create(note("nothing")), ctx()) == Accept()
    rejected = built.filter(create(note("buy")), ctx())
    assert isinstance(rejected, Reject) and "buy" in rejected.reason
