"""How text is compared in every script: one fold for hashtags, keyword rules and filters.

``fold`` maps the spellings a reader takes for the same word to one string:

- NFKC: Arabic presentation forms (``ﻛﺘﺎﺏ``), ligatures and full-width letters become the
  letters they show;
- case-folding, and Latin accents dropped as Mastodon's hashtag normaliser folds them
  (``Café`` → ``cafe``); other scripts keep their marks (Devanagari vowel signs carry meaning);
- Arabic yeh and alef maksura → Persian yeh (``ي``/``ى`` → ``ی``), Arabic kaf → Persian kaf
  (``ك`` → ``ک``), heh with yeh above → heh (``ۀ``/``هٔ`` → ``ه``): the letters Arabic and
  Persian keyboards type differently for one word;
- tatweel (kashida, ``ـ``) and harakat (fatha, kasra, damma, tanwin, shadda, sukun, the
  superscript alef and Quranic marks) dropped: they stretch or vocalise a word, not change it;
- decimal digits of every script (Arabic-Indic ``٣``, Persian ``۳``, Devanagari ``३`` …) → ASCII;
- ZWNJ kept where it separates two letters that would otherwise join (``می‌خواهم``, as Mastodon
  keeps it in tags); dropped where it shows nothing (after a letter that never joins the next,
  doubled, or at either end).

``tag_key`` is the key a hashtag is stored and looked up by. Both are idempotent. Bump
``TAG_KEY_VERSION`` when the fold changes: stored tags are re-keyed at start-up.
"""

from __future__ import annotations

import unicodedata

TAG_KEY_VERSION = 1

_ZWNJ = "\u200c"
_SPACE = " \t\n\r\f\v"
_TATWEEL = "\u0640"
_LETTERS = str.maketrans(
    {
        "\u064a": "\u06cc",  # ARABIC LETTER YEH → FARSI YEH
        "\u0649": "\u06cc",  # ALEF MAKSURA → FARSI YEH
        "\u0643": "\u06a9",  # ARABIC LETTER KAF → KEHEH (Persian kaf)
        "\u06c0": "\u0647",  # HEH WITH YEH ABOVE → HEH (the ezafe hamza is a mark)
        "\u06d5": "\u0647",  # AE (what U+06C0 decomposes to) → HEH
    }
)
# Harakat and Quranic annotation marks: vocalisation, not spelling.
_HARAKAT = frozenset(
    [chr(c) for c in range(0x064B, 0x0660)]
    + ["\u0670"]
    + [chr(c) for c in range(0x06D6, 0x06EE) if c not in (0x06E5, 0x06E6)]
)
# Arabic-script letters that never join the letter after them: a ZWNJ after one shows nothing.
_RIGHT_JOINING = frozenset(
    "\u0622\u0623\u0624\u0625\u0627\u0629\u062f\u0630\u0631\u0632\u0648"  # آ أ ؤ إ ا ة د ذ ر ز و
    + "".join(chr(c) for c in range(0x0671, 0x0678) if c != 0x0674)  # ٱ ٲ ٳ ٵ ٶ ٷ
    + "".join(chr(c) for c in range(0x0688, 0x069A))  # ڈ … ژ ڙ
    + "\u06c0\u06c3"
    + "".join(chr(c) for c in range(0x06C4, 0x06CC))  # ۄ … ۋ
    + "\u06cd\u06cf\u06d2\u06d3\u06d5\u06ee\u06ef"
)


def _latin(ch: str) -> bool:
    return ch < "\u0250" or "\u1e00" <= ch <= "\u1eff"


def _strip_latin_accents(text: str) -> str:
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch) and out and _latin(out[-1]):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def _joins(ch: str) -> bool:
    """A letter or mark a ZWNJ can keep from joining (not a space, digit or punctuation)."""
    return unicodedata.category(ch)[0] in "LM"


def _clean_zwnj(text: str) -> str:
    if _ZWNJ not in text:
        return text
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch == _ZWNJ:
            prev = out[-1] if out else ""
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if (
                not prev
                or not nxt
                or prev == _ZWNJ
                or nxt == _ZWNJ
                or not _joins(prev)
                or not _joins(nxt)
                or prev in _RIGHT_JOINING
            ):
                continue
        out.append(ch)
    return "".join(out)


def _digit(ch: str) -> str:
    if ch.isascii() or unicodedata.category(ch) != "Nd":
        return ch
    return str(unicodedata.decimal(ch))


def fold(text: str) -> str:
    """The form two spellings of one word share (see the module docstring); idempotent."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _strip_latin_accents(text)
    text = text.translate(_LETTERS)
    text = "".join(_digit(ch) for ch in text if ch != _TATWEEL and ch not in _HARAKAT)
    text = _clean_zwnj(text)
    return unicodedata.normalize("NFC", text)


def tag_key(name: str) -> str:
    """The key a hashtag is stored and compared by: ``fold`` of the name without its '#'."""
    return fold(name).lstrip("#" + _SPACE).rstrip(_SPACE)
