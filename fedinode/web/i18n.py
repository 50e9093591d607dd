"""The words of the HTML pages in each language, and which language a visitor gets.

One catalogue per locale, keyed by the English text (gettext's way: English is its own
catalogue, and a string missing from another locale falls back to English). Pages take a
``Translator`` from ``translator(locale)`` and call it on their English strings; placeholders
are ``str.format`` fields, filled with values the page has already escaped when the result
is markup (``Translator.markup``).

Adding a locale is adding a dict to ``CATALOGUES``; a page gets it when ``Accept-Language``
(or, later, the viewer's account) asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

DEFAULT_LOCALE = "en"

# Languages written right to left (primary subtags).
RTL = frozenset(
    {"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "nqo", "ps", "sd", "syr", "ug", "ur", "yi"}
)

_FA: dict[str, str] = {
    # OAuth login and consent (fedinode/web/oauth_page.py)
    "Authorize {app}": "اجازه به {app}",
    "{instance}: authorize {app}": "{instance}: اجازه به {app}",
    "{app}{site} asks to access your account. It will be able to:": (
        "{app}{site} می‌خواهد به حساب شما دسترسی داشته باشد. این برنامه می‌تواند:"
    ),
    "read all your account's data": "همهٔ داده‌های حساب شما را بخواند",
    "modify all your account's data": "همهٔ داده‌های حساب شما را تغییر دهد",
    "modify account relationships": "پیوندهای حساب شما (دنبال کردن، مسدود کردن) را تغییر دهد",
    "receive your push notifications": "آگاهی‌های فوری شما را دریافت کند",
    "read only your account's profile information": "فقط اطلاعات نمایهٔ حساب شما را بخواند",
    "read all data on the server": "همهٔ داده‌های این کارساز را بخواند",
    "modify all data on the server": "همهٔ داده‌های این کارساز را تغییر دهد",
    "Email or username": "رایانامه یا نام کاربری",
    "Password": "گذرواژه",
    "Authorize": "اجازه می‌دهم",
    "Deny": "اجازه نمی‌دهم",
    "Authorization code": "کد اجازه",
    "{instance}: authorization code": "{instance}: کد اجازه",
    "Copy this code and paste it into {app}:": "این کد را رونوشت کنید و در {app} بچسبانید:",
    "Authorization failed": "اجازه انجام نشد",
    "Authorization denied": "اجازه داده نشد",
    "You denied access.": "شما دسترسی را رد کردید.",
    "The form expired or was tampered with; go back to the app and start again.": (
        "این فرم منقضی یا دستکاری شده است؛ به برنامه برگردید و دوباره آغاز کنید."
    ),
    "Invalid email/username or password.": "رایانامه، نام کاربری یا گذرواژه نادرست است.",
    "Your login is missing a confirmed e-mail address": (
        "نشانی رایانامهٔ شما هنوز تأیید نشده است؛ پیوندی را که برایتان فرستادیم باز کنید."
    ),
    "Your login is currently pending approval": "حساب شما در انتظار تأیید یک مدیر است.",
    "Your login is currently disabled": "حساب شما از کار افتاده است.",
    # RFC 6749 error descriptions shown on the page (fedinode/services/oauth.py)
    (
        "Client authentication failed due to unknown client, no client authentication included,"
        " or unsupported authentication method."
    ): "برنامه شناخته نشد: شناسهٔ برنامه نادرست است یا فرستاده نشده است.",
    "The requested scope is invalid, unknown, or malformed.": (
        "دسترسی‌هایی که برنامه خواسته نادرست یا ناشناخته است."
    ),
    "The redirect uri included is not valid.": "نشانی بازگشت برنامه درست نیست.",
    "The code challenge method must be S256.": "روش code challenge باید S256 باشد.",
    "The response mode is not supported.": "این response mode پشتیبانی نمی‌شود.",
    "The authorization server does not support this response type.": (
        "این کارساز این نوع پاسخ را پشتیبانی نمی‌کند."
    ),
    # Sign-up with an invite, e-mail confirmation, password reset (fedinode/web/account_pages.py)
    "Join {title}": "پیوستن به {title}",
    "This invite is used up, expired or revoked.": "این دعوت‌نامه به پایان رسیده، منقضی یا لغو شده است.",
    "You have been invited to {title}. Choose a username and a password.": (
        "شما به {title} دعوت شده‌اید. یک نام کاربری و یک گذرواژه برگزینید."
    ),
    "In an app, sign up at {domain} and give the invite code {code}.": (
        "در یک برنامه، در {domain} نام‌نویسی کنید و کد دعوت {code} را وارد کنید."
    ),
    "Username": "نام کاربری",
    "E-mail address": "نشانی رایانامه",
    "Password (at least 8 characters)": "گذرواژه (دست‌کم ۸ نویسه)",
    "Why do you want to join? (optional)": "چرا می‌خواهید بپیوندید؟ (اختیاری)",
    "I accept the rules of this server": "قوانین این کارساز را می‌پذیرم",
    "Sign up": "نام‌نویسی",
    "Your account @{username} is created.": "حساب ‎@{username} ساخته شد.",
    "We sent a link to {email}: open it to confirm your address.": (
        "پیوندی به {email} فرستادیم؛ برای تأیید نشانی خود آن را باز کنید."
    ),
    "You can log in now from any Mastodon app.": "اکنون می‌توانید از هر برنامهٔ ماستودون وارد شوید.",
    "An administrator will review your sign-up.": "یک مدیر نام‌نویسی شما را بررسی خواهد کرد.",
    "E-mail address confirmed": "نشانی رایانامه تأیید شد",
    "Thank you: your e-mail address is confirmed.": "سپاس؛ نشانی رایانامهٔ شما تأیید شد.",
    "This link is invalid, already used or expired.": "این پیوند نادرست، به‌کاررفته یا منقضی است.",
    "Reset your password": "بازنشانی گذرواژه",
    "Give your account's e-mail address; we will send a link to choose a new password.": (
        "نشانی رایانامهٔ حساب خود را بدهید؛ پیوندی برای گزینش گذرواژهٔ تازه می‌فرستیم."
    ),
    "Send the link": "فرستادن پیوند",
    "If an account has this address, a link is on its way. It works for an hour.": (
        "اگر حسابی با این نشانی باشد، پیوندی در راه است. این پیوند یک ساعت کار می‌کند."
    ),
    "New password (at least 8 characters)": "گذرواژهٔ تازه (دست‌کم ۸ نویسه)",
    "Set the password": "ثبت گذرواژه",
    "The password must be 8 to 1024 characters long.": "گذرواژه باید ۸ تا ۱۰۲۴ نویسه باشد.",
    "Your password is changed; every app was signed out. Log in again.": (
        "گذرواژهٔ شما تغییر کرد و همهٔ برنامه‌ها از حساب بیرون رفتند. دوباره وارد شوید."
    ),
}

CATALOGUES: dict[str, dict[str, str]] = {"en": {}, "fa": _FA}


def primary(tag: str) -> str:
    return tag.strip().split("-")[0].split("_")[0].lower()


def direction(locale: str) -> str:
    return "rtl" if primary(locale) in RTL else "ltr"


def negotiate(accept_language: str | None, *, preferred: str | None = None) -> str:
    """The shipped locale a visitor reads best: ``preferred`` (an account's choice) when
    shipped, else the best-weighted ``Accept-Language`` entry we have, else English."""
    if preferred and primary(preferred) in CATALOGUES:
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
        if locale in CATALOGUES and q > 0 and q - position * 1e-6 > best_q:
            best, best_q = locale, q - position * 1e-6
    return best


@dataclass(frozen=True, slots=True)
class Translator:
    locale: str

    @property
    def dir(self) -> str:
        return direction(self.locale)

    def __call__(self, msgid: str, **values: str) -> str:
        """The text of ``msgid`` in this locale (English when missing), fields filled."""
        text = CATALOGUES.get(self.locale, {}).get(msgid, msgid)
        return text.format(**values) if values else text

    def markup(self, msgid: str, **html_values: str) -> str:
        """Escaped text of ``msgid`` with fields filled by already-escaped HTML."""
        text = CATALOGUES.get(self.locale, {}).get(msgid, msgid)
        return escape(text, quote=False).format(**html_values)


def translator(locale: str) -> Translator:
    return Translator(locale if locale in CATALOGUES else DEFAULT_LOCALE)
