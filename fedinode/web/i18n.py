"""The words of the HTML pages in each language, and which language a visitor gets.

Gettext catalogues kept as Babel ``.po`` files under ``fedinode/web/locale/<locale>/
LC_MESSAGES/messages.po``, keyed by the English text: English is its own catalogue, and a
string missing from another locale falls back to English. A ``.po`` file is compiled in
memory with Babel's own tools the first time its locale is asked for, so a checkout or an
editable install needs no build step. Placeholders are ``str.format`` fields (``{app}``).

Pages take a ``Translator`` from ``translator(locale)``: ``t(msgid, **values)`` for text,
``t.markup(msgid, **values)`` for HTML (the translation is escaped, values are escaped
unless they are already ``Markup``), ``t.plural(singular, plural, n, **values)``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from gettext import GNUTranslations, NullTranslations
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import Markup, escape

DEFAULT_LOCALE = "en"
# The locales shipped with a catalogue (English needs none: it is the message ids).
LOCALES = ("en", "fa")

# Languages written right to left (primary subtags).
RTL = frozenset(
    {"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "nqo", "ps", "sd", "syr", "ug", "ur", "yi"}
)


def primary(tag: str) -> str:
    return tag.strip().split("-")[0].split("_")[0].lower()


def direction(locale: str) -> str:
    return "rtl" if primary(locale) in RTL else "ltr"


def negotiate(accept_language: str | None, *, preferred: str | None = None) -> str:
    """The shipped locale a visitor reads best: ``preferred`` (an account's choice) when
    shipped, else the best-weighted ``Accept-Language`` entry we have, else English."""
    if preferred and primary(preferred) in LOCALES:
        return primary(preferred)
    best, best_q = DEFAULT_LOCALE, -1.0
    for position, item in enumerate((accept_language or "").split(",")[:32]):
        tag, _, params = item.partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        locale = primary(tag)
        # Earlier entries win ties, as the header lists them in order of preference.
        if locale in LOCALES and q > 0 and q - position * 1e-6 > best_q:
            best, best_q = locale, q - position * 1e-6
    return best


def _po_text(locale: str) -> str | None:
    path = resources.files("fedinode.web").joinpath("locale", locale, "LC_MESSAGES", "messages.po")
    return path.read_text("utf-8") if path.is_file() else None


@cache
def gettext_catalogue(locale: str) -> NullTranslations:
    """The compiled catalogue of ``locale`` (English: none, the ids are the text)."""
    text = _po_text(locale) if locale in LOCALES else None
    if text is None:
        return NullTranslations()
    catalog = read_po(io.StringIO(text), locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return GNUTranslations(compiled)


def catalogue(locale: str) -> dict[str, str]:
    """msgid → translation of ``locale``'s catalogue (translated, non-fuzzy entries)."""
    text = _po_text(locale)
    if text is None:
        return {}
    catalog = read_po(io.StringIO(text), locale=locale)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


@dataclass(frozen=True, slots=True)
class Translator:
    locale: str

    @property
    def dir(self) -> str:
        return direction(self.locale)

    def _text(self, msgid: str) -> str:
        return gettext_catalogue(self.locale).gettext(msgid)

    def __call__(self, msgid: str, **values: object) -> str:
        """The text of ``msgid`` in this locale (English when missing), fields filled."""
        text = self._text(msgid)
        return text.format(**values) if values else text

    def plural(self, singular: str, plural: str, n: int, **values: object) -> str:
        """The form for ``n`` (``{n}`` is filled with it)."""
        text = gettext_catalogue(self.locale).ngettext(singular, plural, n)
        return text.format(n=n, **values)

    def plural_markup(self, singular: str, plural: str, n: int, **values: object) -> Markup:
        text = gettext_catalogue(self.locale).ngettext(singular, plural, n)
        return Markup(escape(text)).format(n=n, **values)

    def markup(self, msgid: str, **values: object) -> Markup:
        """Escaped text of ``msgid``; fields are escaped unless they are ``Markup``."""
        return Markup(escape(self._text(msgid))).format(**values)


def translator(locale: str) -> Translator:
    return Translator(locale if locale in LOCALES else DEFAULT_LOCALE)
