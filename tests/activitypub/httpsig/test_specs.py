"""The double-knock's per-peer spec memory (activitypub.httpsig.specs)."""

from __future__ import annotations

from activitypub.httpsig.specs import KNOCK_AGAIN, SignatureSpecs
from activitypub.signatures import CAVAGE, RFC9421


def test_unknown_peers_get_cavage_and_the_other_spec_is_the_retry() -> None:
    specs = SignatureSpecs()
    assert specs.first("a.example") == CAVAGE
    assert SignatureSpecs.other(CAVAGE) == RFC9421
    assert SignatureSpecs.other(RFC9421) == CAVAGE
    assert KNOCK_AGAIN == {400, 401}


def test_remembers_only_peers_off_the_default_and_forgets_the_oldest() -> None:
    specs = SignatureSpecs(limit=2)
    specs.remember("a.example", RFC9421)
    specs.remember("b.example", RFC9421)
    assert specs.first("a.example") == RFC9421
    specs.remember("a.example", CAVAGE)  # back to the default: nothing left to remember
    assert specs.first("a.example") == CAVAGE
    specs.remember("c.example", RFC9421)
    specs.remember("d.example", RFC9421)  # over the limit: b (the oldest) goes
    assert specs.first("b.example") == CAVAGE
    assert specs.first("c.example") == RFC9421
    assert specs.first("d.example") == RFC9421
