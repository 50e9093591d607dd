"""Which language a status posted without one gets, from its script."""

from __future__ import annotations

import pytest

from fedinode.services.language import script_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("سلام، امروز کتاب خوبی خواندم", "fa"),
        ("چه خبر؟", "fa"),
        ("سلام علیکم", "fa"),  # Persian yeh
        ("سلام عليكم", "ar"),  # no letter only Persian has: Arabic
        ("مرحبا بالعالم، كيف حالك؟", "ar"),
        ("پاکستان زندہ باد، یہ اردو ہے", "ur"),
        ("hello world", None),
        ("hello https://example.org/فارسی @alice@example.org", None),
        ("گ and a lot of English words around one Persian letter", None),
        ("خوبی؟ https://example.org/page @bob", "fa"),
        ("", None),
        ("1234 ۱۲۳۴", None),
    ],
)
def test_script_language(text: str, expected: str | None) -> None:
    assert script_language(text) == expected
