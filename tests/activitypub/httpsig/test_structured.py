"""The RFC 8941 subset (activitypub.httpsig.structured) that reads RFC 9421 headers."""

from __future__ import annotations

import pytest

from activitypub.errors import SignatureError
from activitypub.httpsig.structured import SFScanner


def test_dictionary_of_inner_lists_keeps_raw_members() -> None:
    text = 'sig1=("@method" "a\\"b");created=5;keyid="k";flag, sig2=();alg=tok/en'
    scanner = SFScanner(text)
    members = scanner.dictionary(scanner.inner_list)
    (items, params), raw = members["sig1"]
    assert items == [("@method", {}), ('a"b', {})]
    assert params == {"created": 5, "keyid": "k", "flag": True}
    assert raw == '("@method" "a\\"b");created=5;keyid="k";flag'
    assert members["sig2"][0] == ([], {"alg": "tok/en"})


def test_bare_items() -> None:
    scanner = SFScanner('a=:QUJD:, b=?1, c=?0, d=-12.5, e="s"')
    members = {k: v for k, (v, _raw) in scanner.dictionary(scanner.bare).items()}
    assert members == {"a": ":QUJD:", "b": True, "c": False, "d": -12, "e": "s"}


@pytest.mark.parametrize(
    "text",
    [
        "sig1=nope",  # not an inner list
        'sig1=("a"',  # unterminated
        'sig1=("a")x',  # junk after a member
        'Sig1=("a")',  # keys are lower case
        'sig1=("a" ',  # unterminated inner list
    ],
)
def test_malformed_is_refused(text: str) -> None:
    scanner = SFScanner(text)
    with pytest.raises(SignatureError, match="malformed"):
        scanner.dictionary(scanner.inner_list)
