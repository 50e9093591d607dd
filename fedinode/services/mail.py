"""Outgoing e-mail: mails are queued as rows (``storage.mail``) and a sender delivers them
over SMTP with ``aiosmtplib``, retrying with backoff; a failing server never fails the
request that queued the mail."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from fedinode.config import Config, EmailConfig
from storage.ids import now_ms
from storage.mail import OutgoingMail
from storage.store import Store

log = logging.getLogger("fedinode.mail")

_BACKOFF_MS = (10_000, 60_000, 300_000, 900_000, 3_600_000)  # then hourly


def from_address(config: Config) -> str:
    """``[email] from``, or noreply@ the instance's host."""
    return config.email.from_address or f"noreply@{config.domain.partition(':')[0]}"


def build_message(config: Config, mail: OutgoingMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"{config.instance.title} <{from_address(config)}>"
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=from_address(config).partition("@")[2] or None)
    message.set_content(mail.body)
    if mail.language:
        # Here, not at the top: the pages' translations (gettext, markupsafe) stay out of
        # every process until a mail is built.
        from fedinode.web.i18n import direction

        if direction(mail.language) == "rtl":
            # Mail readers lay plain text out left to right: an HTML part says otherwise.
            message.add_alternative(html_body(mail.body, mail.language), subtype="html")
        # After the parts are made: making them moves every Content-* header into the first.
        message["Content-Language"] = mail.language
    return message


_LINK = re.compile(r"https?://[^\s<>\"]+")


def html_body(text: str, language: str) -> str:
    """The plain text as an HTML page in ``language``'s direction, links clickable."""
    from fedinode.web.i18n import direction

    paragraphs = []
    for block in text.strip().split("\n\n"):
        escaped = html.escape(block, quote=True)
        linked = _LINK.sub(lambda m: f'<a href="{m.group(0)}" dir="ltr">{m.group(0)}</a>', escaped)
        paragraphs.append("<p>" + linked.replace("\n", "<br>") + "</p>")
    lang = html.escape(language, quote=True)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction(language)}">'
        '<head><meta charset="utf-8"></head>'
        f'<body dir="{direction(language)}">{"".join(paragraphs)}</body></html>\n'
    )


# Headers folded only past 998 characters (RFC 5322's limit): folding a non-ASCII subject
# at 78 can drop the space at the fold (the words then run together once decoded).
_WIRE = policy.SMTP.clone(max_line_length=998)


async def smtp_send(settings: EmailConfig, message: EmailMessage) -> None:
    import aiosmtplib  # on first mail: an instance without mail does not hold it

    await aiosmtplib.send(
        message.as_bytes(policy=_WIRE),
        sender=message["From"].addresses[0].addr_spec,
        recipients=[address.addr_spec for address in message["To"].addresses],
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.tls == "tls",
        start_tls=True if settings.tls == "starttls" else False,
        username=settings.username or None,
        password=settings.password or None,
        timeout=settings.timeout_seconds,
    )


def retry_at(attempts: int, max_attempts: int) -> int | None:
    """When to try a mail again after ``attempts`` failures; None: give up."""
    if attempts >= max_attempts:
        return None
    return now_ms() + _BACKOFF_MS[min(attempts, len(_BACKOFF_MS)) - 1]


class MailSender:
    """Sends due mails until cancelled; ``poke`` wakes it at once (a mail was queued)."""

    def __init__(self, store: Store, config: Config, *, idle_seconds: float = 5.0) -> None:
        self._store = store
        self._config = config
        self._idle = idle_seconds
        self._wake = asyncio.Event()

    def poke(self) -> None:
        self._wake.set()

    async def send_due(self) -> int:
        """Send what is due now; how many were sent."""
        sent = 0
        settings = self._config.email
        for mail in await self._store.mail.due(20):
            import aiosmtplib

            try:
                await smtp_send(settings, build_message(self._config, mail))
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                when = retry_at(mail.attempts + 1, settings.max_attempts)
                log.error(
                    "mail to %s (%r) not sent, attempt %d%s: %s",
                    mail.recipient,
                    mail.subject,
                    mail.attempts + 1,
                    "; giving up" if when is None else "; will retry",
                    exc,
                )
                await self._store.mail.failed(mail.id, str(exc) or type(exc).__name__,
                                              retry_at=when)  # fmt: skip
                continue
            await self._store.mail.sent(mail.id)
            sent += 1
        return sent

    async def run(self) -> None:
        while True:
            try:
                await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("mail sender failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), self._idle)
            except TimeoutError:
                pass
            self._wake.clear()


async def queue_mail(
    store: Store, config: Config, to: str, subject: str, body: str, *, language: str = ""
) -> bool:
    """Queue a mail written in ``language``; False (nothing queued) when ``[email]`` has no
    host."""
    if not config.email.enabled:
        return False
    await store.mail.enqueue(to, subject, body, language=language)
    return True
