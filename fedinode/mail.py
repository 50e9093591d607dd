"""The mail sender's assembly: one sender task where queue workers run (worker/all roles)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from fedinode import appkeys
from fedinode.services.mail import MailSender

# The sender of this application, when it runs one (tests and "send now" use it).
MAIL_SENDER = web.AppKey("fedinode.mail_sender", MailSender)


def poke_mail(app: web.Application) -> None:
    """A mail was queued: send it now if this process sends mail (else a worker's poll will)."""
    sender = app.get(MAIL_SENDER)
    if sender is not None:
        sender.poke()


async def mail_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[appkeys.CONFIG]
    if app[appkeys.ROLE] not in ("all", "worker") or not config.email.enabled:
        yield
        return
    sender = MailSender(app[appkeys.STORE], config)
    app[MAIL_SENDER] = sender
    task = asyncio.create_task(sender.run())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
