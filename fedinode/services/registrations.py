"""Sign-up (Mastodon's POST /api/v1/accounts), invites, e-mail confirmation and password
reset: who may join under ``[instance] registrations``, and the mails that go with it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from fedinode.errors import ApiError, Forbidden, NotFoundError, ValidationFailed
from fedinode.services import admin
from fedinode.services.context import Ctx
from fedinode.services.mail import queue_mail
from fedinode.services.passwords import MAX_LENGTH, MIN_LENGTH, ScryptCost
from fedinode.services.users import EMAIL, USERNAME, create_local_user, reserved_usernames
from fedinode.services.users import set_password as store_password
from fedinode.web import mails
from storage.errors import Conflict, InviteUnusable
from storage.ids import now_ms
from storage.models import Account, User
from storage.moderation import AdminAccountRow
from storage.signups import Invite

# Mastodon's default reserved usernames: names people would take for the staff's, so nobody
# signing up gets them (an admin can still create such a user with ``fedinode user create``).
STAFF_NAMES = frozenset(
    {"admin", "administrator", "help", "mod", "moderator", "root", "support", "webmaster"}
)
CONFIRM = "confirm"
RESET = "reset"
CONFIRM_TTL_MS = 24 * 3_600_000  # a confirmation link works for a day
RESET_TTL_MS = 3_600_000  # a reset link for an hour
MAX_REASON_CHARS = 1000
REGISTRATIONS_CLOSED = "This action is not allowed"
INVITE_NEEDED = "This instance only takes sign-ups with a valid invite"


class SignUpInvalid(ApiError):
    """422 with Mastodon's ``details``: {field: [{error: ERR_*, description}]}."""

    status = 422

    def __init__(self, details: dict[str, list[dict[str, str]]]) -> None:
        first = next(iter(details.items()))
        super().__init__(f"Validation failed: {first[0].capitalize()} {first[1][0]['description']}")
        self.details = details


@dataclass(frozen=True, slots=True)
class SignUp:
    username: str
    email: str
    password: str
    agreement: bool
    locale: str = ""
    reason: str = ""
    invite_code: str = ""
    # The web form asks for the password twice; the API does not (None: not asked).
    password_confirmation: str | None = None


@dataclass(slots=True)
class _Problems:
    found: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def add(self, name: str, code: str, description: str) -> None:
        self.found.setdefault(name, []).append({"error": code, "description": description})

    def raise_any(self) -> None:
        if self.found:
            raise SignUpInvalid(self.found)


async def usable_invite(ctx: Ctx, code: str) -> Invite | None:
    invite = await ctx.store.invites.by_code(code.strip()) if code.strip() else None
    return invite if invite is not None and invite.usable(now_ms()) else None


async def sign_up(ctx: Ctx, form: SignUp, cost: ScryptCost) -> User:
    """Create the user a sign-up asks for, in the state ``[instance] registrations`` and
    ``[email]`` give it; queue its confirmation mail. Forbidden when sign-ups are closed
    (or need an invite and have none), SignUpInvalid for bad fields."""
    mode = ctx.config.instance.registrations
    if mode == "closed":
        raise Forbidden(REGISTRATIONS_CLOSED)
    invite = await usable_invite(ctx, form.invite_code) if form.invite_code else None
    if mode == "invite" and invite is None:
        raise Forbidden(INVITE_NEEDED)
    problems = _Problems()
    if form.invite_code and invite is None:
        problems.add("invite_code", "ERR_INVALID", "is invalid, used up or expired")
    if not form.username:
        problems.add("username", "ERR_BLANK", "can't be blank")
    elif not USERNAME.match(form.username):
        problems.add(
            "username", "ERR_INVALID", "must contain only letters, numbers and underscores"
        )
    elif form.username.lower() in reserved_usernames(ctx.urls) | STAFF_NAMES:
        problems.add("username", "ERR_RESERVED", "is reserved")
    elif await ctx.store.accounts.by_handle(form.username, "") is not None:
        problems.add("username", "ERR_TAKEN", "is taken")
    if not form.email:
        problems.add("email", "ERR_BLANK", "can't be blank")
    elif not EMAIL.match(form.email) or len(form.email) > 320:
        problems.add("email", "ERR_INVALID", "is invalid")
    elif await ctx.store.users.by_email(form.email) is not None:
        problems.add("email", "ERR_TAKEN", "is taken")
    if not form.password:
        problems.add("password", "ERR_BLANK", "can't be blank")
    elif len(form.password) < MIN_LENGTH:
        problems.add(
            "password", "ERR_TOO_SHORT", f"is too short (minimum is {MIN_LENGTH} characters)"
        )
    elif len(form.password) > MAX_LENGTH:
        problems.add(
            "password", "ERR_TOO_LONG", f"is too long (maximum is {MAX_LENGTH} characters)"
        )
    if form.password_confirmation is not None and form.password_confirmation != form.password:
        problems.add("password_confirmation", "ERR_CONFIRMATION", "doesn't match Password")
    if not form.agreement:
        problems.add("agreement", "ERR_ACCEPTED", "must be accepted")
    if form.locale.strip() and known_locale(form.locale) is None:
        problems.add("locale", "ERR_INCLUSION", "is not included in the list")
    if len(form.reason) > MAX_REASON_CHARS:
        problems.add(
            "reason", "ERR_TOO_LONG", f"is too long (maximum is {MAX_REASON_CHARS} characters)"
        )
    problems.raise_any()
    email_on = ctx.config.email.enabled
    try:
        user, _account = await create_local_user(
            ctx.store,
            ctx.urls,
            username=form.username,
            email=form.email,
            password=form.password,
            cost=cost,
            approved=mode == "open" or invite is not None,
            confirmed=not email_on,
            reason=form.reason.strip(),
            locale=_locale(form.locale, ctx.config.instance.languages),
            invite_id=None if invite is None else invite.id,
        )
    except InviteUnusable:
        # Taken by someone else between the check and the sign-up.
        raise SignUpInvalid(
            {"invite_code": [{"error": "ERR_INVALID", "description": "is used up or expired"}]}
        ) from None
    except Conflict as exc:
        name = "email" if "email" in str(exc) else "username"
        raise SignUpInvalid({name: [{"error": "ERR_TAKEN", "description": "is taken"}]}) from None
    if email_on:
        await send_confirmation(ctx, user)
    return user


def _locale(asked: str, languages: tuple[str, ...]) -> str:
    return known_locale(asked) or (languages[0] if languages else "en")


def known_locale(asked: str) -> str | None:
    """``asked`` as a BCP 47 tag (``pt-BR``) when CLDR knows its language, and its script
    and region as given; else None. (Mastodon takes the locales it has translations for;
    ours are few, and a known language without one reads its pages and mails in English.)"""
    parts = asked.strip().replace("_", "-").split("-")
    if not all(p.isascii() and p.isalnum() for p in parts) or len(parts) > 3:
        return None
    from babel import Locale, UnknownLocaleError  # Babel on first use

    try:
        found = Locale.parse("_".join(parts))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    if found.language != parts[0].lower():  # "und", or a guess from likely subtags
        return None
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            if found.script != part.title():
                return None
        elif found.territory != part.upper():
            return None
    return "-".join(
        [parts[0].lower(), *(p.title() if len(p) == 4 else p.upper() for p in parts[1:])]
    )


def link(ctx: Ctx, path: str, token: str) -> str:
    return f"{ctx.config.base_url}{path}?token={token}"


async def send_confirmation(ctx: Ctx, user: User) -> None:
    raw = secrets.token_urlsafe(32)
    await ctx.store.user_tokens.create(user.id, CONFIRM, raw, ttl_ms=CONFIRM_TTL_MS)
    t = mails.mail_translator(user.locale, ctx.config.instance.languages)
    subject, body = mails.confirmation(
        t, ctx.config.instance.title, ctx.config.base_url, link(ctx, "/auth/confirm", raw)
    )
    await queue_mail(ctx.store, ctx.config, user.email, subject, body, language=t.locale)


async def resend_confirmation(ctx: Ctx, user: User, email: str | None) -> None:
    """POST /api/v1/emails/confirmations: a new link, to a corrected address if given."""
    if user.confirmed:
        raise Forbidden("This method is only available while the e-mail is awaiting confirmation")
    if email and email != user.email:
        if not EMAIL.match(email) or len(email) > 320:
            raise ValidationFailed("Validation failed: Email is invalid")
        other = await ctx.store.users.by_email(email)
        if other is not None and other.id != user.id:
            raise ValidationFailed("Validation failed: Email is taken")
        user = await ctx.store.users.update(user.id, email=email)
    if not ctx.config.email.enabled:
        await ctx.store.users.update(user.id, confirmed_at=now_ms())
        return
    await send_confirmation(ctx, user)


async def confirm_email(ctx: Ctx, token: str) -> User | None:
    """Use a confirmation link; the confirmed user, or None for a bad/used/expired link."""
    user_id = await ctx.store.user_tokens.take(token, CONFIRM) if token else None
    if user_id is None:
        return None
    user = await ctx.store.users.get(user_id)
    if user is None:
        return None
    if user.confirmed_at is None:
        user = await ctx.store.users.update(user.id, confirmed_at=now_ms())
    return user


async def request_password_reset(ctx: Ctx, email: str) -> None:
    """Mail a reset link if a user has this address; says nothing either way."""
    user = await ctx.store.users.by_email(email.strip()) if EMAIL.match(email.strip()) else None
    if user is None or user.disabled:
        return
    raw = secrets.token_urlsafe(32)
    await ctx.store.user_tokens.create(user.id, RESET, raw, ttl_ms=RESET_TTL_MS)
    t = mails.mail_translator(user.locale, ctx.config.instance.languages)
    subject, body = mails.password_reset(
        t, ctx.config.instance.title, link(ctx, "/auth/password/edit", raw)
    )
    await queue_mail(ctx.store, ctx.config, user.email, subject, body, language=t.locale)


async def reset_password(ctx: Ctx, token: str, password: str, cost: ScryptCost) -> User:
    """Set a new password from a reset link; every session of the user is signed out.
    ValidationFailed for an unfit password (the link stays usable), NotFoundError for a
    bad, used or expired link."""
    if await ctx.store.user_tokens.peek(token, RESET) is None:
        raise NotFoundError("This link is invalid or has expired")
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise ValidationFailed(f"The password must be {MIN_LENGTH} to {MAX_LENGTH} characters long")
    user_id = await ctx.store.user_tokens.take(token, RESET)
    user = None if user_id is None else await ctx.store.users.get(user_id)
    if user is None:
        raise NotFoundError("This link is invalid or has expired")
    await store_password(ctx.store, user, password, cost)
    if user.confirmed_at is None:  # the link came by mail: the address works
        user = await ctx.store.users.update(user.id, confirmed_at=now_ms())
    return user


async def approve(ctx: Ctx, moderator: Account, account_id: int | None) -> AdminAccountRow:
    """Approve a pending sign-up and queue the mail that tells its owner (the admin API and
    the admin panel both approve through here)."""
    row = await admin.approve(ctx, moderator, account_id)
    if row.user is not None:
        await notify_approved(ctx, row.user)
    return row


async def notify_approved(ctx: Ctx, user: User) -> None:
    t = mails.mail_translator(user.locale, ctx.config.instance.languages)
    subject, body = mails.approved(t, ctx.config.instance.title, ctx.config.base_url)
    await queue_mail(ctx.store, ctx.config, user.email, subject, body, language=t.locale)


# -- invites ------------------------------------------------------------------------------


async def create_invite(
    ctx: Ctx,
    creator_id: int,
    *,
    max_uses: int | None,
    expires_in: int | None,
    comment: str = "",
) -> Invite:
    """An invite code; ``expires_in`` in seconds (None: never), ``max_uses`` None: unlimited."""
    if max_uses is not None and not 1 <= max_uses <= 100_000:
        raise ValidationFailed("Validation failed: max_uses must be between 1 and 100000")
    if expires_in is not None and not 60 <= expires_in <= 366 * 86_400:
        raise ValidationFailed(
            "Validation failed: expires_in must be between 60 seconds and a year"
        )
    if len(comment) > 500:
        raise ValidationFailed("Validation failed: comment is too long (maximum 500 characters)")
    expires_at = None if expires_in is None else now_ms() + expires_in * 1000
    code = secrets.token_urlsafe(9)
    return await ctx.store.invites.create(
        code, created_by=creator_id, max_uses=max_uses, expires_at=expires_at, comment=comment
    )
