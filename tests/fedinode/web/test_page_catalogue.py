"""Every word the pages show has its Persian translation, with the same fields; the
catalogue compiles from the .po file shipped in the package."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

from fedinode.web.i18n import catalogue, gettext_catalogue, translator

ROOT = Path(__file__).parents[3]
KEYWORDS = {**DEFAULT_KEYWORDS, "_n": (1, 2), "t": None, "markup": None, "plural": (1, 2), "N_": None}
METHODS = [("fedinode/web/**.py", "python"), ("fedinode/web/templates/**.html", "jinja2")]


def _message_ids() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS
    ):
        first = message if isinstance(message, str) else message[0]
        if first:
            found.add(first)
    return found


def test_every_page_string_is_in_persian() -> None:
    ids = _message_ids()
    assert "Email or username" in ids and "How to join" in ids and "{n} user" in ids
    persian = catalogue("fa")
    missing = sorted(ids - persian.keys())
    assert not missing, missing
    fields = re.compile(r"\{(\w+)\}")
    for msgid in ids:
        assert sorted(fields.findall(msgid)) == sorted(fields.findall(persian[msgid])), msgid


def test_plural_forms_and_digits() -> None:
    fa = translator("fa")
    assert fa.plural("{n} user", "{n} users", 1234) == "۱٬۲۳۴ کاربر"
    assert translator("en").plural("{n} user", "{n} users", 1) == "1 user"
    assert translator("en").plural("{n} user", "{n} users", 2) == "2 users"
    assert gettext_catalogue("fa").gettext("Password") == "گذرواژه"
    assert gettext_catalogue("en").gettext("Password") == "Password"
