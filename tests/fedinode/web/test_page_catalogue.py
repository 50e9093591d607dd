"""Every word the pages show has its Persian translation, with the same fields; the
catalogue compiles from the .po file shipped in the package, and names each message once
(Babel keeps one of two entries with the same msgid without a word, so a duplicate would
hide a translation)."""

from __future__ import annotations

import ast
import collections
import re
from pathlib import Path

from babel.messages import frontend
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

from fedinode.web.i18n import catalogue, gettext_catalogue, translator

ROOT = Path(__file__).parents[3]
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_n": (1, 2),
    "t": None,
    "markup": None,
    "plural": (1, 2),
    "N_": None,
}
# Where the strings are: the mapping the documented `pybabel extract -F babel.cfg` uses.
# (``parse_mapping_cfg`` since Babel 2.15, ``parse_mapping`` before.)
_parse_cfg = getattr(frontend, "parse_mapping_cfg", None) or frontend.parse_mapping
with (ROOT / "babel.cfg").open(encoding="utf-8") as _cfg:
    METHODS, _OPTIONS = _parse_cfg(_cfg)


def _message_ids() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=METHODS, options_map=_OPTIONS, keywords=KEYWORDS
    ):
        first = message if isinstance(message, str) else message[0]
        if first:
            found.add(first)
    return found


PO = ROOT / "fedinode/web/locale/fa/LC_MESSAGES/messages.po"


def _po_keys(text: str) -> list[tuple[str, str]]:
    """(msgctxt, msgid) of every live entry of a .po file, read as msgfmt reads it."""
    keys: list[tuple[str, str]] = []
    context, field, parts = "", "", list[str]()

    def close() -> None:
        nonlocal context
        if field == "msgctxt":
            context = "".join(parts)
        elif field == "msgid":
            keys.append((context, "".join(parts)))
            context = ""

    for line in text.splitlines():
        line = line.strip()
        if line.startswith('"') and field:
            parts.append(ast.literal_eval(line))
            continue
        close()
        field, parts = "", []
        found = re.match(r"(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (\".*\")$", line)
        if found:
            field, parts = found.group(1), [ast.literal_eval(found.group(2))]
    close()
    return [key for key in keys if key[1]]  # the header's msgid is empty


def test_duplicate_finder_reads_continued_lines() -> None:
    text = 'msgid ""\nmsgstr "x"\n\nmsgid "a b"\nmsgstr "1"\n\nmsgid ""\n"a "\n"b"\nmsgstr "2"\n'
    assert _po_keys(text) == [("", "a b"), ("", "a b")]
    assert _po_keys('msgctxt "m"\nmsgid "a"\nmsgstr ""\nmsgid "a"\nmsgstr ""') == [
        ("m", "a"),
        ("", "a"),
    ]


def test_no_message_twice_in_the_persian_catalogue() -> None:
    keys = _po_keys(PO.read_text(encoding="utf-8"))
    assert len(keys) > 300
    twice = sorted(key for key, n in collections.Counter(keys).items() if n > 1)
    assert not twice, twice


def test_every_plural_has_all_its_persian_forms() -> None:
    from babel.messages.pofile import read_po

    with PO.open("rb") as po:
        plurals = [m for m in read_po(po, locale="fa") if m.id and isinstance(m.id, tuple)]
    assert plurals
    empty = [m.id[0] for m in plurals if not all(m.string)]
    assert not empty, empty


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
