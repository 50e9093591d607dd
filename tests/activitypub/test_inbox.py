"""Inbox intake: every refusal, in the order the pipeline checks them, on a real instance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from federation.conftest import Instance, eventually, free_port
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from remote_peer import FakePeer, keypair, start_peer

from activitypub.keys import load_private
from activitypub.signatures import sign_request
from policy.settings import settings_from_mapping


@pytest.fixture
async def peer() -> AsyncIterator[FakePeer]:
    p = await start_peer({"mallory": 0, "eve": 1})
    yield p
    await p.server.close()


async def _instance(tmp_path: Path, policy: dict[str, Any] | None = None) -> Instance:
    instance = Instance("home", free_port(), f"sqlite:///{tmp_path}/home.sqlite3", tmp_path)
    if policy is not None:
        instance.policy = settings_from_mapping("open", policy)
    await instance.start()
    return instance


@pytest.fixture
async def home(tmp_path: Path) -> AsyncIterator[Instance]:
    instance = await _instance(tmp_path)
    await instance.user("alice")
    yield instance
    await instance.stop()


def _create(peer: FakePeer, actor: str = "mallory", n: int = 1) -> dict[str, Any]:
    uri = peer.actor_uri(actor)
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{uri}/statuses/{n}/activity",
        "type": "Create",
        "actor": uri,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": f"{uri}/statuses/{n}",
            "type": "Note",
            "attributedTo": uri,
            "content": "<p>hello <script>alert(1)</script>world</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "published": "2026-01-01T00:00:00Z",
        },
    }


async def _post(
    home: Instance, body: bytes, headers: dict[str, str], path: str = "/inbox"
) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"http://{home.domain}{path}", data=body, headers=headers) as r:
            return r.status, await r.text()


async def _send(home: Instance, peer: FakePeer, activity: dict[str, Any], *, signer: str = "mallory",
                path: str = "/inbox") -> tuple[int, str]:  # fmt: skip
    body, headers = peer.signed_post(f"http://{home.domain}{path}", activity, signer=signer)
    return await _post(home, body, headers, path)


async def test_valid_create_is_accepted_persisted_and_processed(
    home: Instance, peer: FakePeer
) -> None:
    activity = _create(peer)
    status, _ = await _send(home, peer, activity)
    assert status == 202
    stored = await eventually(
        lambda: home.store.statuses.by_uri(activity["object"]["id"]), what="note"
    )
    assert "script" not in stored.content and "world" in stored.content
    # The key was fetched once and is now cached: a second activity fetches nothing.
    hits = len(peer.hits)
    assert (await _send(home, peer, _create(peer, n=2)))[0] == 202
    assert len(peer.hits) == hits


async def test_duplicate_activity_is_accepted_once(home: Instance, peer: FakePeer) -> None:
    activity = _create(peer)
    assert (await _send(home, peer, activity))[0] == 202
    assert (await _send(home, peer, activity))[0] == 202
    states = await home.store.queues.inbox_by_state()
    assert sum(states.values()) == 1


async def test_invalid_json_is_400(home: Instance) -> None:
    status, text = await _post(home, b"{not json", {"Content-Type": "application/activity+json"})
    assert status == 400 and "JSON" in text


async def test_non_object_json_is_400(home: Instance) -> None:
    status, _ = await _post(home, b"[1, 2]", {"Content-Type": "application/activity+json"})
    assert status == 400


async def test_too_large_body_is_413(home: Instance) -> None:
    body = b'{"x": "' + b"a" * (home.config.server.max_body_bytes + 10) + b'"}'
    status, _ = await _post(home, body, {"Content-Type": "application/activity+json"})
    assert status == 413


async def test_blocked_host_is_403_before_any_key_fetch(tmp_path: Path, peer: FakePeer) -> None:
    home = await _instance(
        tmp_path, {"domain_blocks": [{"domain": "127.0.0.1", "severity": "suspend"}]}
    )
    try:
        status, _ = await _send(home, peer, _create(peer))
        assert status == 403
        assert peer.hits == []  # not a single request to the blocked peer
        assert await home.store.queues.inbox_pending() == 0
    finally:
        await home.stop()


async def test_missing_signature_is_401(home: Instance, peer: FakePeer) -> None:
    status, text = await _post(home, orjson.dumps(_create(peer)),
                               {"Content-Type": "application/activity+json"})  # fmt: skip
    assert status == 401 and "Signature" in text


async def test_bad_digest_is_401(home: Instance, peer: FakePeer) -> None:
    activity = _create(peer)
    body, headers = peer.signed_post(f"http://{home.domain}/inbox", activity, signer="mallory")
    tampered = body.replace(b"hello", b"HELLO")
    status, text = await _post(home, tampered, headers)
    assert status == 401 and "Digest" in text


async def test_stale_date_is_401(home: Instance, peer: FakePeer) -> None:
    body = orjson.dumps(_create(peer))
    headers = sign_request(
        "POST", f"http://{home.domain}/inbox", {"Content-Type": "application/activity+json"}, body,
        peer.key_id("mallory"), load_private(keypair(0)[0]),
        now=datetime.now(UTC) - timedelta(hours=3),
    )  # fmt: skip
    status, text = await _post(home, body, headers)
    assert status == 401 and "stale" in text


async def test_wrong_key_is_401(home: Instance, peer: FakePeer) -> None:
    body = orjson.dumps(_create(peer))
    # Signed with eve's private key but claiming mallory's keyId.
    headers = sign_request("POST", f"http://{home.domain}/inbox",
                           {"Content-Type": "application/activity+json"}, body,
                           peer.key_id("mallory"), load_private(keypair(1)[0]))  # fmt: skip
    status, text = await _post(home, body, headers)
    assert status == 401 and "verify" in text


async def test_actor_not_the_signer_is_401(home: Instance, peer: FakePeer) -> None:
    status, text = await _send(home, peer, _create(peer, actor="mallory"), signer="eve")
    assert status == 401 and "actor" in text
    assert await home.store.queues.inbox_pending() == 0


async def test_unknown_type_is_202_and_dropped(home: Instance, peer: FakePeer) -> None:
    activity = {**_create(peer), "type": "Dance"}
    status, _ = await _send(home, peer, activity)
    assert status == 202
    assert await home.store.queues.inbox_pending() == 0


async def test_delete_from_an_unknown_actor_fetches_nothing(home: Instance, peer: FakePeer) -> None:
    uri = peer.actor_uri("mallory")
    delete = {"id": f"{uri}#delete", "type": "Delete", "actor": uri, "object": uri,
              "to": ["https://www.w3.org/ns/activitystreams#Public"]}  # fmt: skip
    status, _ = await _send(home, peer, delete)
    assert status == 202
    assert peer.hits == []
    assert await home.store.queues.inbox_pending() == 0


async def test_personal_inbox_of_unknown_user_is_404(home: Instance, peer: FakePeer) -> None:
    status, _ = await _send(home, peer, _create(peer), path="/users/nobody/inbox")
    assert status == 404


async def test_policy_rejection_is_202_recorded_and_not_stored(
    tmp_path: Path, peer: FakePeer
) -> None:
    home = await _instance(
        tmp_path, {"rules": [{"kind": "keyword", "pattern": "hello", "action": "reject"}]}
    )
    try:
        status, _ = await _send(home, peer, _create(peer))
        assert status == 202
        assert await home.store.queues.inbox_pending() == 0
        from storage.paging import Page

        decisions = await home.store.policy.decisions(Page(limit=10))
        assert [d.action for d in decisions] == ["reject"]
    finally:
        await home.stop()


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "type", "actor", "object", "to", "cc", "tag", "@context"]),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)
_BODIES = st.one_of(st.binary(max_size=300), _JSON_VALUES.map(orjson.dumps))


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(bodies=st.lists(_BODIES, min_size=25, max_size=25))
async def test_fuzzed_bodies_never_cause_a_500(home: Instance, bodies: list[bytes]) -> None:
    headers = {
        "Content-Type": "application/activity+json",
        "Signature": 'keyId="http://127.0.0.1:1/k",signature="AAAA"',
    }
    for body in bodies:
        status, _ = await _post(home, body, headers)
        assert status < 500, body
