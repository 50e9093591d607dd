"""Fedify, an independently written and strict ActivityPub framework, as a peer.

A real fedinode (on SQLite and on PostgreSQL) and a Fedify server (tests/interop/fedify/
peer.mjs, on Node >= 22) federate over loopback. fedinode is driven through its Mastodon
API, the Fedify peer through /_control/* commands; each side's view is asserted: Fedify's
WebFinger and actor lookup of a fedinode user, its follow and our Accept, our posts in its
inbox (signed with RFC 9421 once Fedify has signed to us that way), and what Fedify sends
us: Create/Update/Delete of a Note, Like, Announce and their Undo, and replies signed with
draft-cavage and with RFC 9421 by Fedify's own signer. A Fedify that refuses draft-cavage
makes fedinode double-knock.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from federation.api_client import Client, make_client
from federation.conftest import Instance, eventually, free_port
from PIL import Image

from interop.conftest import node_or_skip

PEER_DIR = Path(__file__).parent / "fedify"


@dataclass
class FedifyPeer:
    process: asyncio.subprocess.Process
    port: int
    session: aiohttp.ClientSession
    log: Path

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def handle(self) -> str:
        return f"alice@{self.domain}"

    @property
    def actor(self) -> str:
        return f"http://{self.domain}/users/alice"

    def stderr(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def complaints(self) -> list[str]:
        """Fedify's log lines at warning level or worse (it logs what it finds wrong)."""
        return [
            line
            for line in self.stderr().splitlines()
            if any(level in line for level in ("[WRN]", "[ERR]", "[FTL]"))
        ]

    async def call(self, command: str, **args: Any) -> dict[str, Any]:
        url = f"http://{self.domain}/_control/{command}"
        async with self.session.post(url, json=args) as response:
            body = await response.json()
        assert response.status == 200, (command, args, body, self.stderr()[-4000:])
        return body  # type: ignore[no-any-return]

    async def inbox(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(activities Fedify accepted and parsed, every inbox POST with its spec/status)."""
        found = await self.call("received")
        errors = [r for r in found["received"] if r["type"] == "error"]
        assert not errors, errors
        return found["received"], found["knocks"]

    async def wait_for(
        self, what: str, match: Callable[[dict[str, Any]], bool], within: float = 10.0
    ) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            received, _ = await self.inbox()
            return next((r for r in received if match(r)), None)

        try:
            return await eventually(probe, within=within, what=f"Fedify to receive {what}")
        except AssertionError:
            received, knocks = await self.inbox()
            raise AssertionError(f"Fedify did not receive {what}: {received} {knocks}") from None


PeerFactory = Callable[..., Awaitable[FedifyPeer]]


@pytest.fixture
async def node(
    backend: str, database_url_factory: Callable[[str], Awaitable[str]], tmp_path: Path
) -> AsyncIterator[Instance]:
    """A real fedinode on loopback (plain http, private addresses allowed)."""
    instance = Instance("fedinode", free_port(), await database_url_factory(backend),
                        tmp_path / "fedinode")  # fmt: skip
    await instance.start()
    yield instance
    await instance.stop()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


@pytest.fixture
async def fedify(tmp_path: Path) -> AsyncIterator[PeerFactory]:
    node = node_or_skip(PEER_DIR, "@fedify/fedify")
    started: list[FedifyPeer] = []
    http = aiohttp.ClientSession()

    async def start(fedinode: Instance, *, reject_cavage: bool = False) -> FedifyPeer:
        log = tmp_path / f"fedify-{len(started)}.log"
        env = dict(os.environ, FEDIFY_PEER_HTTP_ORIGINS=fedinode.domain)
        env["FEDIFY_PEER_REJECT_CAVAGE"] = "1" if reject_cavage else "0"
        with log.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                node, "peer.mjs", cwd=PEER_DIR, env=env, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=stderr,
            )  # fmt: skip
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), 60.0)
        except TimeoutError:
            line = b""
        if not line.startswith(b"READY "):
            process.kill()
            await process.wait()
            raise AssertionError(f"Fedify peer did not start: {line!r} {log.read_text()}")
        peer = FedifyPeer(process, int(line.split()[1]), http, log)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        if peer.process.stdin is not None:
            peer.process.stdin.close()
        try:
            await asyncio.wait_for(peer.process.wait(), 5.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                peer.process.kill()
            await peer.process.wait()
    await http.close()


async def upload_picture(client: Client) -> dict[str, Any]:
    picture = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(picture, format="PNG")
    form = aiohttp.FormData()
    form.add_field("file", picture.getvalue(), filename="red.png", content_type="image/png")
    form.add_field("description", "a red rectangle")
    return await client.post("/api/v2/media", data=form, expect=200)  # type: ignore[no-any-return]


async def fetched_by_search(client: Client, uri: str) -> bool:
    found = await client.get(
        "/api/v2/search", params={"q": uri, "resolve": "true", "type": "statuses"}
    )
    return any(s["uri"] == uri for s in found["statuses"])


async def test_fedify_looks_up_follows_and_reads_a_fedinode_user(
    node: Instance, session: aiohttp.ClientSession, fedify: PeerFactory
) -> None:
    carol = await make_client(node, session, "carol")
    peer = await fedify(node)

    # WebFinger (acct: with a port) and the actor document, parsed by Fedify's vocabulary.
    found = await peer.call("lookup", handle=f"@carol@{node.domain}")
    assert found["id"] == f"http://{node.domain}/users/carol"
    assert found["type"] == "Person"
    assert found["preferredUsername"] == "carol"
    assert found["inbox"] == f"http://{node.domain}/users/carol/inbox"
    assert found["sharedInbox"] == f"http://{node.domain}/inbox"
    assert found["publicKey"] == f"http://{node.domain}/users/carol#main-key"

    # Fedify follows carol (signing with RFC 9421 first, as it does); we Accept.
    follow = await peer.call("follow", handle=f"@carol@{node.domain}")
    accept = await peer.wait_for(
        "our Accept", lambda r: r["type"] == "Accept" and r["object_id"] == follow["id"]
    )
    assert accept["actor"] == found["id"]

    async def followed() -> bool:
        followers = await carol.get(f"/api/v1/accounts/{carol.id}/followers")
        return any(a["acct"] == peer.handle for a in followers)

    await eventually(followed, what="carol's followers to list Fedify's alice")

    # carol posts: the Create(Note) reaches Fedify, which fetched nothing it could not parse.
    posted = await carol.status("hello fedify, from fedinode")
    create = await peer.wait_for(
        "carol's post", lambda r: r["type"] == "Create" and r["object_id"] == posted["uri"]
    )
    assert create["object_type"] == "Note"
    assert "hello fedify" in create["content"]

    # Fedify signed to us with RFC 9421, so we sign to it so, and its verifier accepts it.
    _, knocks = await peer.inbox()
    ours = [k for k in knocks if k["type"] in ("Accept", "Create")]
    assert ours and all(k["spec"] == "rfc9421" and k["status"] < 300 for k in ours), knocks

    # Fedify's strict readers on our public documents: the post, the actor's outbox and
    # followers walked page by page, WebFinger by actor URL, and NodeInfo.
    note = await peer.call("inspect", uri=posted["uri"])
    assert note["type"] == "Note", note
    assert note["json"]["attributedTo"] == found["id"], note
    actor = await peer.call("inspect", uri=found["id"], collections=["outbox", "followers"])
    outbox = actor["walked"]["outbox"]
    assert outbox["totalItems"] == 1 and len(outbox["items"]) == 1, actor["walked"]
    assert actor["walked"]["followers"]["items"] == [peer.actor], actor["walked"]
    jrd = await peer.call("webfinger", resource=found["id"])
    assert jrd["subject"] == f"acct:carol@{node.domain}", jrd
    assert any(link.get("href") == found["id"] for link in jrd["links"]), jrd
    info = await peer.call("nodeinfo", url=f"http://{node.domain}/")
    assert info["software"] == "fedinode" and "activitypub" in info["protocols"], info

    # A poll with a hashtag and a mention of alice: a Question whose tags Fedify reads.
    poll = await carol.status(
        f"#fedify poll for @{peer.handle}", poll={"options": ["yes", "no"], "expires_in": 3600}
    )
    question = await peer.wait_for(
        "carol's poll", lambda r: r["type"] == "Create" and r["object_id"] == poll["uri"]
    )
    assert question["object_type"] == "Question", question
    assert question["options"] == ["yes", "no"], question
    tags = {(t["type"], t["href"]) for t in question["tags"]}
    assert ("Mention", peer.actor) in tags, question["tags"]
    assert any(kind == "Hashtag" for kind, _ in tags), question["tags"]

    # A profile edit reaches Fedify as an Update of the Person.
    await carol.call(
        "PATCH", "/api/v1/accounts/update_credentials", data={"display_name": "Carol C."}
    )
    profile = await peer.wait_for(
        "the profile Update", lambda r: r["type"] == "Update" and r["object_id"] == found["id"]
    )
    assert profile["object_type"] == "Person", profile

    # Strict JSON-LD: everything we served and sent expands without losing a property.
    reply_to_poll = await carol.status("a reply", in_reply_to_id=poll["id"])
    served = [found["id"], posted["uri"], poll["uri"], reply_to_poll["uri"],
              f"{found['id']}/outbox", f"{found['id']}/followers", f"http://{node.domain}/actor"]  # fmt: skip
    problems = []
    for uri in served:
        problems += (await peer.call("expand", uri=uri))["problems"]
    sent = await peer.call("expand")
    assert sent["checked"] >= 5, sent
    assert not problems + sent["problems"], problems + sent["problems"]

    # carol edits, then deletes the post.
    await carol.call("PUT", f"/api/v1/statuses/{posted['id']}", json={"status": "edited"})
    await peer.wait_for(
        "the edit", lambda r: r["type"] == "Update" and r["object_id"] == posted["uri"]
    )
    await carol.call("DELETE", f"/api/v1/statuses/{posted['id']}")
    await peer.wait_for(
        "the delete", lambda r: r["type"] == "Delete" and r["object_id"] == posted["uri"]
    )
    assert not peer.complaints(), peer.complaints()


async def test_fedinode_follows_fedify_and_takes_what_it_sends(
    node: Instance, session: aiohttp.ClientSession, fedify: PeerFactory
) -> None:
    carol = await make_client(node, session, "carol")
    peer = await fedify(node)

    # A note Fedify serves only to signed fetches (its authorize predicate checks the key
    # owner): carol finds it by URL, fedinode fetching it signed with draft-cavage first.
    hidden = await peer.call("draft", text="only for signed fetches")
    assert await fetched_by_search(carol, hidden["note"]), "signed fetch (draft-cavage) refused"

    # carol finds alice through search (WebFinger to Fedify) and follows; Fedify accepts.
    found = await carol.get(
        "/api/v2/search", params={"q": f"@{peer.handle}", "resolve": "true", "type": "accounts"}
    )
    alice = next(a for a in found["accounts"] if a["acct"] == peer.handle)
    assert alice["display_name"] == "Alice of Fedify"
    await carol.post(f"/api/v1/accounts/{alice['id']}/follow")

    async def following() -> bool:
        return bool((await carol.relationship(alice["id"]))["following"])

    await eventually(following, what="Fedify to accept carol's follow")
    _, knocks = await peer.inbox()
    assert [k["spec"] for k in knocks if k["type"] == "Follow"] == ["draft-cavage"], knocks

    # Fedify signed its Accept with RFC 9421: our signed fetches to it are RFC 9421 now.
    hidden = await peer.call("draft", text="again only for signed fetches")
    assert await fetched_by_search(carol, hidden["note"]), "signed fetch (RFC 9421) refused"
    found_all = await peer.call("received")
    gets = [(k["spec"], k["status"]) for k in found_all["knocks"] if k["type"] == "GET"]
    assert gets == [("draft-cavage", 200), ("rfc9421", 200)], found_all["knocks"]
    assert {f["owner"] for f in found_all["fetches"]} == {f"http://{node.domain}/actor"}, found_all

    # Create, Update, Delete of a Note.
    created = await peer.call("create", text="a note from Fedify")

    async def in_home() -> Any:
        return await carol.in_home(created["note"])

    status = await eventually(in_home, what="Fedify's note in carol's home")
    assert "a note from Fedify" in status["content"]
    assert status["account"]["acct"] == peer.handle
    assert status["visibility"] == "public", status  # Fedify compacts Public to "as:Public"

    # carol likes, boosts and answers alice's note (with a picture); Fedify reads all.
    await carol.post(f"/api/v1/statuses/{status['id']}/favourite")
    await carol.post(f"/api/v1/statuses/{status['id']}/reblog")
    media = await upload_picture(carol)
    answer = await carol.status(
        f"@{peer.handle} a picture for you", in_reply_to_id=status["id"], media_ids=[media["id"]]
    )
    for kind in ("Like", "Announce"):
        await peer.wait_for(
            f"carol's {kind}",
            lambda r, kind=kind: r["type"] == kind and r["object_id"] == created["note"],
        )
    reply = await peer.wait_for(
        "carol's reply", lambda r: r["type"] == "Create" and r["object_id"] == answer["uri"]
    )
    note_json = reply["json"]["object"]
    assert note_json["inReplyTo"] == created["note"], note_json
    attachment = note_json["attachment"]
    attachment = attachment[0] if isinstance(attachment, list) else attachment
    assert attachment["mediaType"] == "image/png", note_json
    assert attachment["url"].startswith(f"http://{node.domain}/"), note_json
    await carol.post(f"/api/v1/statuses/{status['id']}/unfavourite")
    await carol.post(f"/api/v1/statuses/{status['id']}/unreblog")
    undone = set()
    for _ in range(2):
        undo = await peer.wait_for(
            "carol's Undo", lambda r: r["type"] == "Undo" and r["id"] not in undone
        )
        undone.add(undo["id"])
        assert undo["object_type"] in ("Like", "Announce"), undo

    await peer.call("update", note=created["note"], text="an edited note from Fedify")

    async def edited() -> bool:
        current = await carol.get(f"/api/v1/statuses/{status['id']}")
        return "an edited note" in current["content"]

    await eventually(edited, what="the Update to edit the status")

    await peer.call("delete", note=created["note"])

    async def deleted() -> bool:
        return await carol.in_home(created["note"]) is None

    await eventually(deleted, what="the Delete to remove the status")

    # Like and Announce of carol's post, and their Undo.
    mine = await carol.status("a post for Fedify to like and boost")
    like = await peer.call("like", object=mine["uri"], handle=f"@carol@{node.domain}")

    async def counts(favourites: int, reblogs: int) -> bool:
        current = await carol.get(f"/api/v1/statuses/{mine['id']}")
        return bool(
            current["favourites_count"] == favourites and current["reblogs_count"] == reblogs
        )

    await eventually(lambda: counts(1, 0), what="the Like to count")
    notified = await carol.notifications("favourite")
    assert any(n["account"]["acct"] == peer.handle for n in notified), notified
    announce = await peer.call("announce", object=mine["uri"], handle=f"@carol@{node.domain}")
    await eventually(lambda: counts(1, 1), what="the Announce to count")
    await peer.call("undo", activity=like["id"], handle=f"@carol@{node.domain}")
    await eventually(lambda: counts(0, 1), what="the Undo(Like) to count")
    await peer.call("undo", activity=announce["id"], handle=f"@carol@{node.domain}")
    await eventually(lambda: counts(0, 0), what="the Undo(Announce) to count")

    # Replies POSTed with Fedify's own signer, once per spec.
    for spec in ("draft-cavage-http-signatures-12", "rfc9421"):
        reply = await peer.call(
            "reply", text=f"a reply signed {spec}", inReplyTo=mine["uri"],
            handle=f"@carol@{node.domain}", spec=spec,
        )  # fmt: skip
        assert reply["status"] in (200, 202), reply
        assert (reply["signatureInput"] is not None) == (spec == "rfc9421")

        async def threaded(uri: str = reply["note"]) -> bool:
            context = await carol.get(f"/api/v1/statuses/{mine['id']}/context")
            return any(s["uri"] == uri for s in context["descendants"])

        await eventually(threaded, what=f"the reply signed {spec} in the thread")
    mentions = await carol.notifications("mention")
    assert len([n for n in mentions if n["account"]["acct"] == peer.handle]) == 2, mentions

    # A forward: alice's reply carrying her Object Integrity Proof (made by Fedify's
    # signObject), POSTed under the HTTP signature of another actor ("relay").
    forwarded = await peer.call(
        "forwardedReply", text="a forwarded reply", inReplyTo=mine["uri"],
        handle=f"@carol@{node.domain}", tamper=False,
    )  # fmt: skip
    assert forwarded["proof"] and forwarded["status"] in (200, 202), forwarded

    async def in_thread(uri: str, content: str) -> bool:
        context = await carol.get(f"/api/v1/statuses/{mine['id']}/context")
        return any(s["uri"] == uri and content in s["content"] for s in context["descendants"])

    await eventually(
        lambda: in_thread(forwarded["note"], "a forwarded reply"),
        what="the forwarded reply, trusted on alice's integrity proof",
    )
    # Tampered after signing: the proof fails, so the body is not trusted; what alice's
    # server serves for the note (her own words) is what lands, or nothing.
    tampered = await peer.call(
        "forwardedReply", text="what alice wrote", inReplyTo=mine["uri"],
        handle=f"@carol@{node.domain}", tamper=True,
    )  # fmt: skip
    assert tampered["status"] in (200, 202, 401), tampered
    if tampered["status"] != 401:
        await eventually(
            lambda: in_thread(tampered["note"], "what alice wrote"),
            what="the origin's version of the tampered forward",
        )
    context = await carol.get(f"/api/v1/statuses/{mine['id']}/context")
    assert not [s for s in context["descendants"] if "not what alice wrote" in s["content"]]

    # alice deletes her account: she and her posts leave carol's instance.
    await peer.call("deleteSelf", handle=f"@carol@{node.domain}")

    async def gone() -> bool:
        url = f"{carol.base}/api/v1/accounts/{alice['id']}"
        async with session.get(url, headers={"Authorization": f"Bearer {carol.token}"}) as resp:
            return resp.status == 404

    await eventually(gone, what="the Delete(Person) to remove alice")
    assert not [s for s in await carol.home() if s["account"]["acct"] == peer.handle]

    # Every activity we delivered was taken by Fedify's verifier.
    _, knocks = await peer.inbox()
    assert knocks and all(k["status"] < 300 for k in knocks), knocks
    assert not peer.complaints(), peer.complaints()


async def test_fedinode_double_knocks_a_fedify_that_wants_rfc9421(
    node: Instance, session: aiohttp.ClientSession, fedify: PeerFactory
) -> None:
    carol = await make_client(node, session, "carol")
    peer = await fedify(node, reject_cavage=True)

    found = await carol.get(
        "/api/v2/search", params={"q": f"@{peer.handle}", "resolve": "true", "type": "accounts"}
    )
    alice = next(a for a in found["accounts"] if a["acct"] == peer.handle)
    await carol.post(f"/api/v1/accounts/{alice['id']}/follow")

    async def following() -> bool:
        return bool((await carol.relationship(alice["id"]))["following"])

    await eventually(following, what="Fedify to accept the RFC 9421 retry of the follow")
    received, knocks = await peer.inbox()
    follows = [(k["spec"], k["status"]) for k in knocks if k["type"] == "Follow"]
    assert follows[0] == ("draft-cavage", 401), knocks
    assert follows[1][0] == "rfc9421" and follows[1][1] < 300, knocks
    assert any(r["type"] == "Follow" for r in received)

    # The peer's spec is remembered: the Undo goes out signed with RFC 9421 at once.
    await carol.post(f"/api/v1/accounts/{alice['id']}/unfollow")
    await peer.wait_for("the Undo(Follow)", lambda r: r["type"] == "Undo")
    _, knocks = await peer.inbox()
    assert [(k["spec"], k["status"] < 300) for k in knocks if k["type"] == "Undo"] == [
        ("rfc9421", True)
    ], knocks
    assert not peer.complaints(), peer.complaints()


async def test_fedify_matches_our_undo_to_the_follow_we_sent(
    node: Instance, session: aiohttp.ClientSession, fedify: PeerFactory
) -> None:
    carol = await make_client(node, session, "carol")
    peer = await fedify(node)
    found = await carol.get(
        "/api/v2/search", params={"q": f"@{peer.handle}", "resolve": "true", "type": "accounts"}
    )
    alice = next(a for a in found["accounts"] if a["acct"] == peer.handle)
    await carol.post(f"/api/v1/accounts/{alice['id']}/follow")
    follow = await peer.wait_for("the Follow", lambda r: r["type"] == "Follow")

    async def following() -> bool:
        return bool((await carol.relationship(alice["id"]))["following"])

    await eventually(following, what="Fedify to accept carol's follow")
    await carol.post(f"/api/v1/accounts/{alice['id']}/unfollow")
    undo = await peer.wait_for("the Undo(Follow)", lambda r: r["type"] == "Undo")
    assert undo["object_id"] == follow["id"], (undo["json"], follow["json"])
