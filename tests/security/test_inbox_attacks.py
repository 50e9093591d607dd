"""A hostile peer against our inbox: forged authorship, replays, signature tricks, floods.

Each test is one attack on a real instance on loopback; the fake peer is a real HTTP server
serving actor documents with keys (``remote_peer.py``). Another port on 127.0.0.1 is
another host (authorities carry the port).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import orjson

from activitypub.keys import load_private
from activitypub.signatures import http_date, sign_request
from security.rig import FakePeer, Instance, drained, eventually, post_raw, send
from storage.models import Account, Status
from storage.statuses import NewPoll, NewStatus

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def note(peer: FakePeer, actor: str, n: int, **extra: Any) -> dict[str, Any]:
    uri = peer.actor_uri(actor)
    doc = {
        "id": f"{uri}/statuses/{n}",
        "type": "Note",
        "attributedTo": uri,
        "content": f"<p>note {n}</p>",
        "to": [PUBLIC],
        "published": "2026-01-01T00:00:00Z",
    }
    doc.update(extra)
    return doc


def wrap(peer: FakePeer, actor: str, type_: str, obj: Any, n: int | str = 1) -> dict[str, Any]:
    uri = peer.actor_uri(actor)
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{uri}/activities/{type_.lower()}-{n}",
        "type": type_,
        "actor": uri,
        "to": [PUBLIC],
        "object": obj,
    }


async def local_status(home: Instance, author: Account, text: str, **kw: Any) -> Status:
    return await home.store.statuses.create(
        NewStatus(account_id=author.id, local=True, content=f"<p>{text}</p>", text=text,
                  visibility=kw.pop("visibility", "public"), **kw),
        uri_template=home.urls.status_template(author.username),
    )  # fmt: skip


async def alice(home: Instance) -> Account:
    found = await home.store.accounts.by_handle("alice", "")
    assert found is not None
    return found


# -- authorship and ownership ------------------------------------------------------------


async def test_create_of_a_note_on_a_third_host_is_not_stored(
    home: Instance, peer: FakePeer, third: FakePeer
) -> None:
    # mallory (host A) claims a note whose id and author are bob's (host B).
    forged = note(third, "bob", 1)
    assert (await send(home, peer, wrap(peer, "mallory", "Create", forged)))[0] == 202
    # Same, attributed to mallory but with an id on bob's host.
    forged2 = note(peer, "mallory", 2, id=f"{third.actor_uri('bob')}/statuses/2")
    assert (await send(home, peer, wrap(peer, "mallory", "Create", forged2, 2)))[0] == 202
    await drained(home)
    assert await home.store.statuses.by_uri(forged["id"]) is None
    assert await home.store.statuses.by_uri(forged2["id"]) is None


async def test_update_and_delete_of_another_actors_status_change_nothing(
    home: Instance, peer: FakePeer
) -> None:
    original = note(peer, "eve", 1)
    assert (await send(home, peer, wrap(peer, "eve", "Create", original), signer="eve"))[0] == 202
    stored = await eventually(lambda: home.store.statuses.by_uri(original["id"]), what="note")
    edited = dict(original, content="<p>pwned</p>", updated="2026-01-02T00:00:00Z")
    assert (await send(home, peer, wrap(peer, "mallory", "Update", edited)))[0] == 202
    assert (await send(home, peer, wrap(peer, "mallory", "Delete", original["id"])))[0] == 202
    await drained(home)
    after = await home.store.statuses.by_uri(original["id"])
    assert after is not None and after.id == stored.id and "pwned" not in after.content


async def test_an_old_update_replayed_does_not_roll_an_edit_back(
    home: Instance, peer: FakePeer
) -> None:
    """Each Update is the author's own, signed; one replayed after a newer edit (or one
    without a time) leaves the newer text in place, as Mastodon does."""
    original = note(peer, "eve", 1)
    assert (await send(home, peer, wrap(peer, "eve", "Create", original), signer="eve"))[0] == 202
    await eventually(lambda: home.store.statuses.by_uri(original["id"]), what="note")
    first = dict(original, content="<p>first edit</p>", updated="2026-01-02T00:00:00Z")
    second = dict(original, content="<p>second edit</p>", updated="2026-01-03T00:00:00Z")
    for n, edit in enumerate((first, second)):
        update = wrap(peer, "eve", "Update", edit, f"u{n}")
        assert (await send(home, peer, update, signer="eve"))[0] == 202
        await drained(home)
    # The first edit again, under a new activity id (a replay), and one with no time at all.
    replay = wrap(peer, "eve", "Update", first, "replay")
    assert (await send(home, peer, replay, signer="eve"))[0] == 202
    timeless = {k: v for k, v in original.items() if k != "updated"}
    timeless["content"] = "<p>no time</p>"
    assert (await send(home, peer, wrap(peer, "eve", "Update", timeless, "t"), signer="eve"))[
        0
    ] == 202
    await drained(home)
    stored = await home.store.statuses.by_uri(original["id"])
    assert stored is not None and "second edit" in stored.content


async def test_create_cannot_overwrite_an_existing_status(home: Instance, peer: FakePeer) -> None:
    first = note(peer, "mallory", 1)
    assert (await send(home, peer, wrap(peer, "mallory", "Create", first)))[0] == 202
    await eventually(lambda: home.store.statuses.by_uri(first["id"]), what="note")
    again = dict(first, content="<p>rewritten</p>")
    assert (await send(home, peer, wrap(peer, "mallory", "Create", again, 2)))[0] == 202
    await drained(home)
    stored = await home.store.statuses.by_uri(first["id"])
    assert stored is not None and "rewritten" not in stored.content


async def test_announce_of_a_local_status_ignores_a_forged_embedded_body(
    home: Instance, peer: FakePeer
) -> None:
    status = await local_status(home, await alice(home), "the real text")
    forged = {"id": status.uri, "type": "Note", "attributedTo": (await alice(home)).uri,
              "content": "<p>alice says: send me your password</p>", "to": [PUBLIC]}  # fmt: skip
    assert (await send(home, peer, wrap(peer, "mallory", "Announce", forged)))[0] == 202
    await drained(home)
    after = await home.store.statuses.get(status.id)
    assert after is not None and after.content == "<p>the real text</p>"


async def test_announce_of_a_private_local_status_is_ignored(
    home: Instance, peer: FakePeer
) -> None:
    status = await local_status(home, await alice(home), "secret", visibility="private")
    announce = wrap(peer, "mallory", "Announce", status.uri)
    assert (await send(home, peer, announce))[0] == 202
    await drained(home)
    assert await home.store.statuses.by_uri(announce["id"]) is None


async def test_undo_of_another_actors_follow_is_refused(home: Instance, peer: FakePeer) -> None:
    me = await alice(home)
    follow = wrap(peer, "eve", "Follow", me.uri)
    assert (await send(home, peer, follow, signer="eve"))[0] == 202
    eve = await eventually(lambda: home.store.accounts.by_uri(peer.actor_uri("eve")), what="eve")
    await eventually(lambda: home.store.relationships.get_follow(eve.id, me.id), what="follow")
    undo = wrap(peer, "mallory", "Undo", follow)
    assert (await send(home, peer, undo))[0] == 202
    undo_by_id = wrap(peer, "mallory", "Undo", follow["id"], 2)
    assert (await send(home, peer, undo_by_id))[0] == 202
    await drained(home)
    assert await home.store.relationships.get_follow(eve.id, me.id) is not None


async def test_remote_poll_votes_count_once_per_account(home: Instance, peer: FakePeer) -> None:
    poll_status = await local_status(
        home, await alice(home), "pick one", poll=NewPoll(options=["yes", "no"], votes=[0, 0])
    )
    for n in range(5):  # five votes from one account, each with a fresh activity and note id
        vote = note(peer, "mallory", 100 + n, name="yes", content=None, to=[(await alice(home)).uri],
                    inReplyTo=poll_status.uri)  # fmt: skip
        vote.pop("content")
        assert (await send(home, peer, wrap(peer, "mallory", "Create", vote, 100 + n)))[0] == 202
    vote_no = note(peer, "mallory", 200, name="no", to=[(await alice(home)).uri],
                   inReplyTo=poll_status.uri)  # fmt: skip
    vote_no.pop("content")
    assert (await send(home, peer, wrap(peer, "mallory", "Create", vote_no, 200)))[0] == 202
    await drained(home)
    poll = (await home.store.statuses.polls_for([poll_status.id]))[poll_status.id]
    # A single-choice poll: one voter, one vote.
    assert poll.voters_count == 1
    assert sum(poll.votes) == 1


async def test_remote_vote_on_a_poll_the_voter_cannot_see_is_ignored(
    home: Instance, peer: FakePeer
) -> None:
    poll_status = await local_status(
        home, await alice(home), "followers only", visibility="private",
        poll=NewPoll(options=["yes", "no"], votes=[0, 0]),
    )  # fmt: skip
    vote = note(peer, "mallory", 1, name="yes", to=[(await alice(home)).uri],
                inReplyTo=poll_status.uri)  # fmt: skip
    vote.pop("content")
    assert (await send(home, peer, wrap(peer, "mallory", "Create", vote)))[0] == 202
    await drained(home)
    poll = (await home.store.statuses.polls_for([poll_status.id]))[poll_status.id]
    assert poll.voters_count == 0 and sum(poll.votes) == 0


# -- signatures ----------------------------------------------------------------------------


def _signed(
    peer: FakePeer, url: str, activity: dict[str, Any], *, signer: str = "mallory", **kw: Any
) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(activity)
    headers = sign_request(
        "POST", url, {"Content-Type": "application/activity+json"}, body,
        peer.key_id(signer), load_private(_private(peer, signer)), **kw,
    )  # fmt: skip
    return body, headers


def _private(peer: FakePeer, name: str) -> str:
    from remote_peer import keypair

    return keypair(peer.actors[name])[0]


async def test_signature_made_for_another_server_is_refused(home: Instance, peer: FakePeer) -> None:
    # A request mallory signed for some other server (Host other.example), replayed to us
    # by whoever received it: same path, valid key, valid date — but not meant for us.
    body, headers = _signed(
        peer,
        "http://other.example/inbox",
        wrap(peer, "mallory", "Create", note(peer, "mallory", 1)),
    )
    status, _ = await post_raw(home, body, headers)
    assert status == 401
    assert await home.store.queues.inbox_pending() == 0


async def test_signed_get_made_for_another_server_does_not_reveal_private_posts(
    home: Instance, peer: FakePeer
) -> None:
    me = await alice(home)
    secret = await local_status(home, me, "followers only", visibility="private")
    assert (await send(home, peer, wrap(peer, "mallory", "Follow", me.uri)))[0] == 202
    mallory = await eventually(
        lambda: home.store.accounts.by_uri(peer.actor_uri("mallory")), what="mallory"
    )
    await eventually(lambda: home.store.relationships.get_follow(mallory.id, me.id), what="follow")
    path = f"/users/alice/statuses/{secret.id}"
    accept = {"Accept": "application/activity+json"}
    key = load_private(_private(peer, "mallory"))

    async def get(signed_for: str) -> int:
        headers = sign_request("GET", f"http://{signed_for}{path}", accept, None,
                               peer.key_id("mallory"), key)  # fmt: skip
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://{home.domain}{path}", headers=headers,
                                   skip_auto_headers=["Host"]) as response:  # fmt: skip
                return response.status

    assert await get(home.domain) == 200  # the follower may read it, signed for us
    # The same GET signed for another server (which could replay it to us) reveals nothing.
    assert await get("other.example") == 404


async def test_signature_for_another_path_is_refused(home: Instance, peer: FakePeer) -> None:
    body, headers = _signed(peer, f"http://{home.domain}/users/alice/inbox",
                            wrap(peer, "mallory", "Create", note(peer, "mallory", 1)))  # fmt: skip
    status, _ = await post_raw(home, body, headers, "/inbox")
    assert status == 401


async def test_post_without_digest_is_refused(home: Instance, peer: FakePeer) -> None:
    activity = wrap(peer, "mallory", "Create", note(peer, "mallory", 1))
    body = orjson.dumps(activity)
    headers = sign_request("POST", f"http://{home.domain}/inbox",
                           {"Content-Type": "application/activity+json"}, None,
                           peer.key_id("mallory"), load_private(_private(peer, "mallory")))  # fmt: skip
    status, _ = await post_raw(home, body, headers)
    assert status == 401


async def test_date_far_in_the_future_is_refused(home: Instance, peer: FakePeer) -> None:
    later = datetime.now(UTC) + timedelta(days=30)
    body, headers = _signed(
        peer,
        f"http://{home.domain}/inbox",
        wrap(peer, "mallory", "Create", note(peer, "mallory", 1)),
        now=later,
    )
    status, text = await post_raw(home, body, headers)
    assert status == 401 and "future" in text


async def test_uncovered_date_header_swap_is_refused(home: Instance, peer: FakePeer) -> None:
    # hs2019 with (created) far in the past, and a fresh, unsigned Date header.
    old = datetime.now(UTC) - timedelta(days=3)
    body, headers = _signed(peer, f"http://{home.domain}/inbox",
                            wrap(peer, "mallory", "Create", note(peer, "mallory", 1)),
                            algorithm="hs2019", now=old)  # fmt: skip
    headers["Date"] = http_date()
    status, _ = await post_raw(home, body, headers)
    assert status == 401


async def test_duplicate_signature_headers_only_the_first_counts(
    home: Instance, peer: FakePeer
) -> None:
    # Two Signature headers (sent raw: aiohttp's client would merge them): the first is
    # eve's, valid for this very request; the second is mallory's. The activity is
    # mallory's. Only the first header is considered, and eve is not the actor.
    import asyncio

    activity = wrap(peer, "mallory", "Create", note(peer, "mallory", 1))
    url = f"http://{home.domain}/inbox"
    moment = datetime.now(UTC)
    body, by_mallory = _signed(peer, url, activity, now=moment)
    _, by_eve = _signed(peer, url, activity, signer="eve", now=moment)
    lines = ["POST /inbox HTTP/1.1", f"Host: {home.domain}",
             "Content-Type: application/activity+json", f"Content-Length: {len(body)}",
             f"Date: {by_eve['Date']}", f"Digest: {by_eve['Digest']}",
             f"signature: {by_eve['Signature']}", f"Signature: {by_mallory['Signature']}",
             "Connection: close"]  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", home.port)
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert b" 401 " in status_line
    assert await home.store.queues.inbox_pending() == 0


# -- floods and odd shapes -----------------------------------------------------------------


async def test_deeply_nested_json_is_a_clean_400(home: Instance) -> None:
    body = b'{"a":' * 5000 + b"1" + b"}" * 5000
    status, _ = await post_raw(home, body, {"Content-Type": "application/activity+json"})
    assert status == 400


async def test_nested_object_chain_is_not_a_500(home: Instance, peer: FakePeer) -> None:
    inner: Any = "x"
    for _ in range(150):
        inner = {"type": "Note", "object": inner}
    status, _ = await send(home, peer, wrap(peer, "mallory", "Create", inner))
    assert status in (202, 400)
    await drained(home)


async def test_giant_addressing_lists_are_processed_without_fetching_each(
    home: Instance, peer: FakePeer
) -> None:
    obj = note(peer, "mallory", 1)
    obj["cc"] = [f"http://{peer.domain}/users/u{i}" for i in range(20_000)]
    obj["tag"] = [{"type": "Mention", "href": f"http://{peer.domain}/users/m{i}"}
                  for i in range(2_000)]  # fmt: skip
    activity = wrap(peer, "mallory", "Create", obj)
    activity["cc"] = obj["cc"]
    status, _ = await send(home, peer, activity)
    assert status in (202, 413)
    await drained(home)
    mention_fetches = [h for h in peer.hits if "/users/m" in h]
    assert len(mention_fetches) <= 5


async def test_follow_of_a_nonexistent_local_user_creates_nothing(
    home: Instance, peer: FakePeer
) -> None:
    follow = wrap(peer, "mallory", "Follow", f"http://{home.domain}/users/nobody")
    assert (await send(home, peer, follow))[0] == 202
    await drained(home)
    assert await home.store.accounts.by_handle("nobody", "") is None


async def test_blocked_keyid_host_is_not_fetched(
    tmp_path: Any, peer: FakePeer, third: FakePeer
) -> None:
    from security.rig import start_home

    home = await start_home(
        tmp_path, {"domain_blocks": [{"domain": third.domain, "severity": "suspend"}]}
    )
    try:
        activity = wrap(peer, "mallory", "Create", note(peer, "mallory", 1))
        body = orjson.dumps(activity)
        headers = sign_request("POST", f"http://{home.domain}/inbox",
                               {"Content-Type": "application/activity+json"}, body,
                               third.key_id("bob"), load_private(_private(third, "bob")))  # fmt: skip
        status, _ = await post_raw(home, body, headers)
        assert status == 403
        assert third.hits == []
    finally:
        await home.stop()


async def test_rfc9421_second_label_on_a_blocked_host_is_not_fetched(
    tmp_path: Any, peer: FakePeer, third: FakePeer
) -> None:
    from activitypub.signatures import sign_request_rfc9421
    from security.rig import start_home

    home = await start_home(
        tmp_path, {"domain_blocks": [{"domain": third.domain, "severity": "suspend"}]}
    )
    try:
        activity = wrap(peer, "mallory", "Create", note(peer, "mallory", 1))
        body = orjson.dumps(activity)
        url = f"http://{home.domain}/inbox"
        decoy = sign_request_rfc9421("POST", url, {}, body, peer.key_id("mallory"),
                                     load_private(_private(peer, "mallory")), label="a")  # fmt: skip
        real = sign_request_rfc9421("POST", url, {}, body, third.key_id("bob"),
                                    load_private(_private(third, "bob")), label="b")  # fmt: skip
        headers = {
            "Content-Type": "application/activity+json",
            "Host": home.domain,
            "Content-Digest": real["Content-Digest"],
            "Signature-Input": f"{decoy['Signature-Input']}, {real['Signature-Input']}",
            "Signature": real["Signature"],  # only label b carries a signature
        }
        status, _ = await post_raw(home, body, headers)
        assert status in (401, 403)
        assert third.hits == []
    finally:
        await home.stop()


async def test_remote_votes_on_a_multiple_choice_poll_count_each_option_once(
    store: Any,
) -> None:
    from factories import local_account, post, remote_account

    author = await local_account(store, "alice")
    voter = await remote_account(store, "mallory")
    status = await post(store, author, "pick some",
                        poll=NewPoll(options=["a", "b", "c"], multiple=True, votes=[0, 0, 0]))  # fmt: skip
    poll = (await store.statuses.polls_for([status.id]))[status.id]
    outcomes = [await store.polls.record_remote_vote(poll.id, voter.id, c) for c in (0, 1, 0, 1, 7)]
    assert outcomes == [True, True, False, False, False]
    after = (await store.statuses.polls_for([status.id]))[status.id]
    assert after.votes == [1, 1, 0] and after.voters_count == 1
