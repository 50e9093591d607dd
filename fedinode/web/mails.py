"""The words of the mails fedinode sends, in the recipient's language (the pages' Babel
catalogue: Persian complete, English the fallback). Each function gives (subject, body)."""

from __future__ import annotations

from fedinode.web.i18n import Translator, translator


def mail_translator(locale: str, languages: tuple[str, ...]) -> Translator:
    """The recipient's account locale, else the instance's first language; English when no
    catalogue is shipped for it."""
    chosen = (locale or (languages[0] if languages else "")).strip().replace("_", "-")
    return translator(chosen.split("-")[0].lower() if chosen else "en")


def confirmation(t: Translator, title: str, base_url: str, link: str) -> tuple[str, str]:
    return (
        t("{title}: confirm your e-mail address", title=title),
        t(
            "Someone (we hope you) signed up at {title} ({url}) with this address.",
            title=title,
            url=base_url,
        )
        + "\n\n"
        + t("To confirm it, open this link within 24 hours:")
        + f"\n\n{link}\n\n"
        + t("If it was not you, ignore this mail.")
        + "\n",
    )


def password_reset(t: Translator, title: str, link: str) -> tuple[str, str]:
    return (
        t("{title}: reset your password", title=title),
        t("Someone asked to reset the password of your account at {title}.", title=title)
        + "\n\n"
        + t("To choose a new password, open this link within an hour:")
        + f"\n\n{link}\n\n"
        + t("If it was not you, ignore this mail: your password stays as it is.")
        + "\n",
    )


def approved(t: Translator, title: str, base_url: str) -> tuple[str, str]:
    return (
        t("{title}: your account is approved", title=title),
        t(
            "Welcome! Your account at {title} ({url}) has been approved; you can log in now.",
            title=title,
            url=base_url,
        )
        + "\n",
    )
