"""What a push says: Mastodon's payload, its title in the recipient's language, and a body.

Every string a phone shows is here, one table per language; a language without a table
reads English. Names and bodies are cut short, so a payload always fits one push record
(RFC 8291 leaves 3993 bytes of plaintext in a 4 KiB push).
"""

from __future__ import annotations

from typing import TypedDict

BODY_CHARS = 140  # as Mastodon's own pushes
NAME_CHARS = 60
MAX_PAYLOAD_BYTES = 3_000
PAD_STEP = 1_024  # payloads are padded to whole KiB: the size tells little of the text

TITLES: dict[str, dict[str, str]] = {
    "en": {
        "mention": "{name} mentioned you",
        "status": "{name} just posted",
        "reblog": "{name} boosted your post",
        "follow": "{name} followed you",
        "follow_request": "{name} requested to follow you",
        "favourite": "{name} favourited your post",
        "poll": "A poll has ended",
        "update": "{name} edited a post",
        "admin.sign_up": "{name} signed up",
        "admin.report": "New report from {name}",
        "move": "{name} moved to a new account",
        "severed_relationships": "Some of your connections were severed",
        "moderation_warning": "You have received a moderation warning",
        "": "New notification from {name}",
    },
    "fa": {
        "mention": "{name} از شما نام برد",
        "status": "{name} چیزی فرستاد",
        "reblog": "{name} فرسته‌تان را تقویت کرد",
        "follow": "{name} پیگیرتان شد",
        "follow_request": "{name} درخواست پیگیری‌تان را داد",
        "favourite": "{name} فرسته‌تان را برگزید",
        "poll": "یک نظرسنجی پایان یافت",
        "update": "{name} فرسته‌ای را ویرایش کرد",
        "admin.sign_up": "{name} نام‌نویسی کرد",
        "admin.report": "گزارشی تازه از {name}",
        "move": "{name} به حسابی تازه رفت",
        "severed_relationships": "برخی از پیوندهایتان بریده شد",
        "moderation_warning": "هشداری از سوی گردانندگان دریافت کردید",
        "": "آگاهی تازه از {name}",
    },
}


class PushPayload(TypedDict):
    """What Mastodon puts in a push (``Web::NotificationSerializer``)."""

    access_token: str
    preferred_locale: str
    notification_id: int
    notification_type: str
    icon: str
    title: str
    body: str


def language(locale: str) -> str:
    """The table for a locale (``fa``, ``fa-IR``, ``en_GB``): its language, or English."""
    lang = locale.replace("_", "-").split("-", 1)[0].lower()
    return lang if lang in TITLES else "en"


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def title(type_: str, name: str, locale: str) -> str:
    table = TITLES[language(locale)]
    return table.get(type_, table[""]).format(name=_cut(name, NAME_CHARS))


def payload(
    *,
    access_token: str,
    locale: str,
    notification_id: int,
    type_: str,
    sender_name: str,
    icon: str,
    body: str,
) -> PushPayload:
    out: PushPayload = {
        "access_token": access_token,
        "preferred_locale": locale or "en",
        "notification_id": notification_id,
        "notification_type": type_,
        "icon": icon,
        "title": title(type_, sender_name, locale),
        "body": _cut(body, BODY_CHARS),
    }
    return out


def padded(encoded: bytes) -> bytes:
    """JSON with trailing spaces (still the same JSON to any parser) up to the next
    ``PAD_STEP``, so a push service cannot guess a post's length from a push's size."""
    return encoded + b" " * (-len(encoded) % PAD_STEP)
