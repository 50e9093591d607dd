"""SideEffects: one set of side effects for local and remote events."""

from __future__ import annotations

from fedinode.services.federator import NoFederation
from fedinode.services.surface import SideEffects
from storage.accounts import NewAccount
from storage.models import Account, Notification, Status
from storage.paging import Page
from storage.statuses import NewStatus
from storage.store import Store


async def local_account(store: Store, username: str) -> Account:
    _, account = await store.users.create(
        NewAccount(username=username, domain="", uri=f"https://local.test/users/{username}"),
        email=f"{username}@local.test", password_hash="x",
    )  # fmt: skip
    return account


async def remote_account(store: Store, username: str, domain: str = "remote.test") -> Account:
    return await store.accounts.create(
        NewAccount(username=username, domain=domain, uri=f"https://{domain}/users/{username}")
    )


async def post(store: Store, author: Account, text: str, *, mentions: list[int]) -> Status:
    uri = "" if author.local else f"{author.uri}/statuses/{len(text)}"
    return await store.statuses.create(
        NewStatus(account_id=author.id, local=author.local, uri=uri, content=f"<p>{text}</p>",
                  text=text, mentions=mentions),
        uri_template=f"{author.uri}/statuses/{{id}}",
    )  # fmt: skip


async def _notes(store: Store, account: Account) -> list[Notification]:
    return list(reversed(await store.notifications.list(account.id, Page(limit=40))))


async def test_local_and_remote_followers_get_one_group_key(store: Store) -> None:
    alice, bob = await local_account(store, "alice"), await local_account(store, "bob")
    carol = await remote_account(store, "carol")
    dave = await remote_account(store, "dave", "elsewhere.test")
    surface = SideEffects(store)
    for follower in (bob, carol, dave):
        await surface.followed(follower, alice)
    notes = await _notes(store, alice)
    assert [(n.type, n.from_account_id) for n in notes] == [
        ("follow", bob.id), ("follow", carol.id), ("follow", dave.id)
    ]  # fmt: skip
    [key] = {n.group_key for n in notes}
    assert key.startswith("follow-")
    # A remote account is told through federation, never by a notification row here.
    await surface.followed(alice, carol)
    assert await _notes(store, carol) == []


async def test_a_remote_post_notifies_as_a_local_one(store: Store) -> None:
    alice, bob = await local_account(store, "alice"), await local_account(store, "bob")
    carol = await remote_account(store, "carol")
    surface = SideEffects(store)
    # alice asked to hear of bob's and carol's posts; each post mentions bob or alice.
    await store.relationships.follow(alice.id, bob.id, notify=True)
    await store.relationships.follow(alice.id, carol.id, notify=True)
    # erin follows carol without the bell, dave (remote) with it: neither hears of the post.
    erin, dave = await local_account(store, "erin"), await remote_account(store, "dave")
    await store.relationships.follow(erin.id, carol.id)
    await store.relationships.follow(dave.id, carol.id, notify=True)
    for author, mentioned in ((bob, alice), (carol, bob)):
        status = await post(store, author, f"hello from {author.username}",
                            mentions=[mentioned.id])  # fmt: skip
        await surface.status_created(status, author)
    alice_notes = [(n.type, n.from_account_id) for n in await _notes(store, alice)]
    # A mention says more than "posted": alice hears of bob's post once, as a mention.
    assert alice_notes == [("mention", bob.id), ("status", carol.id)]
    assert [(n.type, n.from_account_id) for n in await _notes(store, bob)] == [
        ("mention", carol.id)
    ]
    assert await _notes(store, erin) == []
    assert await _notes(store, dave) == []


class RecordingFederator(NoFederation):
    """Keeps what it was asked to tell peers."""

    def __init__(self) -> None:
        self.told: list[tuple[str, int, int, str | None]] = []

    async def follow_accepted(
        self, target: Account, follower: Account, follow_uri: str | None
    ) -> None:
        self.told.append(("Accept", target.id, follower.id, follow_uri))

    async def follow_rejected(
        self, target: Account, follower: Account, follow_uri: str | None
    ) -> None:
        self.told.append(("Reject", target.id, follower.id, follow_uri))

    async def followed(self, follower: Account, target: Account, follow_uri: str) -> None:
        self.told.append(("Follow", follower.id, target.id, follow_uri))

    async def poll_votes_changed(self, status: Status) -> None:
        self.told.append(("Update", status.id, status.account_id, None))


async def test_the_inbox_answers_peers_through_the_federator(store: Store) -> None:
    alice = await local_account(store, "alice")
    carol = await remote_account(store, "carol")
    dave = await remote_account(store, "dave", "elsewhere.test")
    federator = RecordingFederator()
    surface = SideEffects(store, federator)
    await surface.follow_accepted(alice, carol, "https://remote.test/follows/1")
    await surface.follow_rejected(alice, dave, "https://elsewhere.test/follows/2")
    await surface.follow_moved(alice, dave, "https://local.test/users/alice#follows/3")
    poll = await post(store, alice, "a poll", mentions=[])
    await surface.poll_vote_counted(poll)
    assert federator.told == [
        ("Accept", alice.id, carol.id, "https://remote.test/follows/1"),
        ("Reject", alice.id, dave.id, "https://elsewhere.test/follows/2"),
        ("Follow", alice.id, dave.id, "https://local.test/users/alice#follows/3"),
        ("Update", poll.id, alice.id, None),
    ]
    # Answering a peer notifies nobody here.
    assert await _notes(store, alice) == []


async def test_without_a_federator_nothing_is_told(store: Store) -> None:
    alice, carol = await local_account(store, "alice"), await remote_account(store, "carol")
    surface = SideEffects(store)  # as the use cases build it: they tell peers themselves
    await surface.follow_accepted(alice, carol, "https://remote.test/follows/1")
    await surface.follow_moved(alice, carol, "https://local.test/users/alice#follows/2")
    assert await _notes(store, alice) == [] and await _notes(store, carol) == []
