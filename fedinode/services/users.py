"""Local users: creating one (account, keys, URLs and a hashed password in one step) and
changing a password."""

from __future__ import annotations

import asyncio
import re

from activitypub.federation import INSTANCE_ACTOR_USERNAME
from activitypub.keys import generate_keypair
from activitypub.urls import Urls
from activitypub.webfinger import instance_actor_aliases
from fedinode.errors import ValidationFailed
from fedinode.services.passwords import (
    DEFAULT_COST,
    MAX_LENGTH,
    MIN_LENGTH,
    ScryptCost,
    hash_password,
    verify_password,
)
from storage.accounts import NewAccount
from storage.models import Account, User
from storage.store import Store

USERNAME = re.compile(r"^[A-Za-z0-9_]{1,30}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def reserved_usernames(urls: Urls) -> frozenset[str]:
    """Names WebFinger gives to the instance actor (lowercase): no local user may take one."""
    domain = urls.base.partition("://")[2]
    return instance_actor_aliases(domain) | {INSTANCE_ACTOR_USERNAME}


async def create_local_user(
    store: Store,
    urls: Urls,
    *,
    username: str,
    email: str,
    password: str,
    admin: bool = False,
    display_name: str = "",
    locked: bool = False,
    bot: bool = False,
    cost: ScryptCost = DEFAULT_COST,
    approved: bool = True,
    confirmed: bool = True,
    reason: str = "",
    locale: str = "",  # "": none chosen (the pages follow the browser's Accept-Language)
    invite_id: int | None = None,
) -> tuple[User, Account]:
    """Raises ValidationFailed for bad input and storage Conflict for a taken name or email."""
    if not USERNAME.match(username):
        raise ValidationFailed("username must be 1-30 letters, digits or underscores")
    if username.lower() in reserved_usernames(urls):
        raise ValidationFailed(f"username {username!r} is reserved for the instance actor")
    if not EMAIL.match(email):
        raise ValidationFailed("email is not a valid address")
    check_new_password(password)
    private_pem, public_pem = generate_keypair()
    account = NewAccount(
        username=username,
        domain="",
        uri=urls.actor(username),
        url=urls.profile_page(username),
        actor_type="Service" if bot else "Person",
        display_name=display_name,
        locked=locked,
        bot=bot,
        inbox_url=urls.inbox(username),
        outbox_url=urls.outbox(username),
        shared_inbox_url=urls.shared_inbox,
        followers_url=urls.followers(username),
        following_url=urls.following(username),
        featured_url=urls.featured(username),
        public_key_id=urls.key_id(username),
        public_key_pem=public_pem,
        private_key_pem=private_pem,
    )
    return await store.users.create(
        account,
        email=email,
        password_hash=await asyncio.to_thread(hash_password, password, cost),
        admin=admin,
        approved=approved,
        confirmed=confirmed,
        reason=reason,
        locale=locale,
        invite_id=invite_id,
    )


def check_new_password(password: str) -> None:
    """ValidationFailed unless ``password`` is fit to be set."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(f"password must be at most {MAX_LENGTH} characters")


async def set_password(
    store: Store,
    user: User,
    password: str,
    cost: ScryptCost,
    *,
    keep_token_id: int | None = None,
    keep_session_id: int | None = None,
) -> int:
    """Set the user's password and sign out every token but ``keep_token_id`` and every web
    session but ``keep_session_id``; how many tokens were revoked. ValidationFailed for an
    unfit password."""
    check_new_password(password)
    fresh = await asyncio.to_thread(hash_password, password, cost)
    revoked = await store.users.set_password(user.id, fresh, keep_token_id=keep_token_id)
    await store.web_sessions.delete_for_user(user.id, keep_id=keep_session_id)
    return revoked


async def change_password(
    store: Store,
    user: User,
    *,
    old_password: str,
    new_password: str,
    cost: ScryptCost,
    keep_token_id: int | None,
    keep_session_id: int | None = None,
) -> int:
    """A user changing their own password: the old one must match and the new one differ.
    Like Mastodon, the session that asked stays signed in and every other one is signed out."""
    if not await asyncio.to_thread(verify_password, old_password, user.password_hash):
        raise ValidationFailed("Validation failed: current password is incorrect")
    if new_password == old_password:
        raise ValidationFailed("Validation failed: the new password must differ from the old one")
    return await set_password(
        store,
        user,
        new_password,
        cost,
        keep_token_id=keep_token_id,
        keep_session_id=keep_session_id,
    )
