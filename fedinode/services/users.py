"""Creating local users: account, keys, URLs and a hashed password in one step."""

from __future__ import annotations

import re

from activitypub.federation import INSTANCE_ACTOR_USERNAME
from activitypub.keys import generate_keypair
from activitypub.urls import Urls
from activitypub.webfinger import instance_actor_aliases
from fedinode.errors import ValidationFailed
from fedinode.services.passwords import hash_password
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
) -> tuple[User, Account]:
    """Raises ValidationFailed for bad input and storage Conflict for a taken name or email."""
    if not USERNAME.match(username):
        raise ValidationFailed("username must be 1-30 letters, digits or underscores")
    if username.lower() in reserved_usernames(urls):
        raise ValidationFailed(f"username {username!r} is reserved for the instance actor")
    if not EMAIL.match(email):
        raise ValidationFailed("email is not a valid address")
    if len(password) < 8:
        raise ValidationFailed("password must be at least 8 characters")
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
        account, email=email, password_hash=hash_password(password), admin=admin
    )
