"""Rule kinds and the registry that builds them from RuleSpecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from policy.rules.hashtag import HashtagRule
from policy.rules.keyword import KeywordRule
from policy.rules.media import MediaRule
from policy.rules.mentions import MentionsRule
from policy.rules.new_account_links import NewAccountLinksRule
from policy.rules.object_age import ObjectAgeRule
from policy.rules.options import OptionReader
from policy.rules.rule import Rule
from policy.rules.sparql import SparqlRule
from policy.rules.vocabulary import VocabularyRule

if TYPE_CHECKING:
    from policy.settings import RuleSpec

RULE_CLASSES: dict[str, type[Rule]] = {
    cls.kind: cls
    for cls in (
        KeywordRule,
        HashtagRule,
        ObjectAgeRule,
        MentionsRule,
        NewAccountLinksRule,
        MediaRule,
        VocabularyRule,
        SparqlRule,
    )
}
RULE_KINDS: tuple[str, ...] = tuple(RULE_CLASSES)


def build_rule(spec: RuleSpec) -> Rule:
    """Compile one rule; raises PolicyConfigError naming the offending option."""
    from policy.errors import PolicyConfigError

    cls = RULE_CLASSES.get(spec.kind)
    if cls is None:
        raise PolicyConfigError(f"{spec.key}.kind", f"unknown rule kind {spec.kind!r}")
    name = spec.name or spec.kind
    return cls(name, spec.action, spec.dry_run, OptionReader(spec.options, spec.key))


__all__ = ["RULE_CLASSES", "RULE_KINDS", "Rule", "build_rule"]
