"""Small builders for storage tests, named by role."""

from __future__ import annotations

from storage.accounts import NewAccount
from storage.models import Account, Status
from storage.statuses import NewStatus
from storage.store import Store


async def local_account(store: Store, username: str) -> Account:
    _, account = await store.users.create(
        NewAccount(username=username, domain="", uri=f"http://local.test/users/{username}",
                   inbox_url=f"http://local.test/users/{username}/inbox"),
        email=f"{username}@local.test", password_hash="x",
    )
    return account


async def remote_account(store: Store, username: str, domain: str = "remote.test", *, shared: bool = True) -> Account:
    return await store.accounts.create(
        NewAccount(
            username=username, domain=domain, uri=f"https://{domain}/users/{username}",
            inbox_url=f"https://{domain}/users/{username}/inbox",
            shared_inbox_url=f"https://{domain}/inbox" if shared else "",
        )
    )


async def post(store: Store, author: Account, text: str = "hello", **kw: object) -> Status:
    uri = "" if author.local else f"{author.uri}/statuses/{text}-{len(text)}-{id(kw)}"
    return await store.statuses.create(
        NewStatus(account_id=author.id, local=author.local, uri=uri, content=f"<p>{text}</p>", text=text, **kw),  # type: ignore[arg-type]
        uri_template=f"{author.uri}/statuses/{{id}}",
    )
