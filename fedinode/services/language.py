"""The language of a status posted without one: its script, then the author's default posting
language, then the instance's first language.

Script first, because a Persian status served as ``"en"`` is shown left to right, hyphenated
and read aloud as English. Only what the script settles is guessed: mostly Arabic-script
letters with one of the letters Persian adds (پ چ ژ گ, Persian yeh and kaf) is Persian, with
one Urdu adds (ٹ ڈ ڑ ں ے) Urdu, with neither Arabic. Other scripts fall back to the defaults.
"""

from __future__ import annotations

import re
from typing import Protocol

from fedinode.config import Config
from storage.models import User

_URL_OR_MENTION = re.compile(r"\S+://\S+|@[\w.-]+(?:@[\w.:-]+)?")
_PERSIAN = frozenset("پچژگیک")
_URDU = frozenset("ٹڈڑںےۓھہ")


def _arabic_script(ch: str) -> bool:
    o = ord(ch)
    return (
        0x0600 <= o <= 0x06FF
        or 0x0750 <= o <= 0x077F
        or 0x08A0 <= o <= 0x08FF
        or 0xFB50 <= o <= 0xFDFF
        or 0xFE70 <= o <= 0xFEFF
    )


def script_language(text: str) -> str | None:
    """Return "fa", "ur" or "ar" for text mostly in Arabic script; None otherwise."""
    letters = [ch for ch in _URL_OR_MENTION.sub(" ", text) if ch.isalpha()]
    arabic = [ch for ch in letters if _arabic_script(ch)]
    if not arabic or len(arabic) * 2 <= len(letters):
        return None
    present = set(arabic)
    if present & _URDU:
        return "ur"
    if present & _PERSIAN:
        return "fa"
    return "ar"


class Written(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def spoiler_text(self) -> str: ...


def status_language(data: Written, user: User | None, config: Config) -> str | None:
    """The language to store for a status whose author named none."""
    detected = script_language(f"{data.spoiler_text}\n{data.text}")
    if detected:
        return detected
    default = user.settings.get("default_language") if user is not None else None
    if isinstance(default, str) and default:
        return default
    languages = config.instance.languages
    return languages[0] if languages and languages[0] else None
