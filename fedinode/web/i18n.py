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

from markupsafe import Markup, escape

DEFAULT_LOCALE = "en"
# The locales shipped with a catalogue (English needs none: it is the message ids).
LOCALES = ("en", "fa")

# Languages written right to left (primary subtags).
RTL = frozenset(
    {"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "nqo", "ps", "sd", "syr", "ug", "ur", "yi"}
)


def N_(msgid: str) -> str:
    """Marks a message id for extraction where it is defined; translated where it is shown."""
    return msgid


# Messages made elsewhere (services, the OAuth handlers) that pages translate when they
# show them; listed here so that extraction finds them.
ELSEWHERE = (
    N_("Authorization failed"),
    N_("Authorization denied"),
    N_("You denied access."),
    N_("The form expired or was tampered with; go back to the app and start again."),
    N_("Invalid email/username or password."),
    N_("Your login is missing a confirmed e-mail address"),
    N_("Your login is currently pending approval"),
    N_("Your login is currently disabled"),
    N_(
        "Client authentication failed due to unknown client, no client authentication included,"
        " or unsupported authentication method."
    ),
    N_("The requested scope is invalid, unknown, or malformed."),
    N_("The redirect uri included is not valid."),
    N_("The code challenge method must be S256."),
    N_("The response mode is not supported."),
    N_("The authorization server does not support this response type."),
)


# Babel knows each locale's numbering system but writes Latin digits; these locales write
# their own.
_DIGITS = {"fa": str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")}


def digits(text: str, locale: str) -> str:
    """``text`` with its ASCII digits written as ``locale`` writes them."""
    table = _DIGITS.get(locale)
    return text.translate(table) if table else text


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
    # Babel on first use: a process that serves no page in another language does not hold it.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.StringIO(text), locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return GNUTranslations(compiled)


def catalogue(locale: str) -> dict[str, str]:
    """msgid → translation of ``locale``'s catalogue (translated, non-fuzzy entries; a
    plural entry is keyed by its singular id and gives its last form)."""
    text = _po_text(locale)
    if text is None:
        return {}
    from babel.messages.pofile import read_po

    found = {}
    for m in read_po(io.StringIO(text), locale=locale):
        if not m.id or m.fuzzy:
            continue
        key = m.id if isinstance(m.id, str) else m.id[0]
        string = m.string if isinstance(m.string, str) else (m.string or ("",))[-1]
        if string:
            found[str(key)] = str(string)
    return found


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

    def number(self, n: int) -> str:
        """``n`` in this locale's digits and grouping (Persian digits for ``fa``)."""
        from babel.numbers import format_decimal

        return digits(
            format_decimal(n, locale=self.locale, numbering_system="default"), self.locale
        )

    def plural(self, singular: str, plural: str, n: int, **values: object) -> str:
        """The form for ``n`` (``{n}`` is filled with it, in this locale's digits)."""
        text = gettext_catalogue(self.locale).ngettext(singular, plural, n)
        return text.format(n=self.number(n), **values)

    def plural_markup(self, singular: str, plural: str, n: int, **values: object) -> Markup:
        text = gettext_catalogue(self.locale).ngettext(singular, plural, n)
        return Markup(escape(text)).format(n=self.number(n), **values)

    def markup(self, msgid: str, **values: object) -> Markup:
        """Escaped text of ``msgid``; fields are escaped unless they are ``Markup``."""
        return Markup(escape(self._text(msgid))).format(**values)


def translator(locale: str) -> Translator:
    return Translator(locale if locale in LOCALES else DEFAULT_LOCALE)
