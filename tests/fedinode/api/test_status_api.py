"""Posting and acting on statuses as apps do: rendering, replies, redraft, edits, polls,
interactions, idempotency and scopes."""

from __future__ import annotations

from api_helpers import Api


async def test_post_renders_text_and_entities(api: Api) -> None:
    alice = await api.user("alice")
    await api.user("bob")
    s = await alice.status(
        "Hi @bob and @nobody! <b>x</b> https://example.com/a?b=1 #Fediverse #سلام\n\nsecond",
        language="fa",
    )
    assert s["content"].startswith('<p>Hi <span class="h-card"')
    assert "&lt;b&gt;x&lt;/b&gt;" in s["content"]
    assert 'href="https://example.com/a?b=1"' in s["content"]
    assert "@nobody" in s["content"] and "</p><p>second</p>" in s["content"]
    assert [m["acct"] for m in s["mentions"]] == ["bob"]
    assert [t["name"].casefold() for t in s["tags"]] == ["fediverse", "سلام"]
    assert s["language"] == "fa"
    assert s["visibility"] == "public" and s["account"]["username"] == "alice"
    assert s["application"]["name"] == "tests"
    # A hashtag in any script finds the status, case-folded.
    tagged = await alice.json("get", "/api/v1/timelines/tag/fediverse")
    assert [t["id"] for t in tagged] == [s["id"]]
    tagged = await alice.json("get", "/api/v1/timelines/tag/سلام")
    assert [t["id"] for t in tagged] == [s["id"]]


async def test_form_bodies_polls_and_votes(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    resp = await alice.post(
        "/api/v1/statuses",
        data=[
            ("status", "pick one"),
            ("poll[options][]", "tea"),
            ("poll[options][]", "coffee"),
            ("poll[expires_in]", "3600"),
        ],
    )
    s = await resp.json()
    assert resp.status == 200, s
    poll = s["poll"]
    assert [o["title"] for o in poll["options"]] == ["tea", "coffee"]
    assert poll["voted"] is True  # own poll
    voted = await bob.json("post", f"/api/v1/polls/{poll['id']}/votes", json={"choices": [1]})
    assert voted["voted"] is True and voted["own_votes"] == [1]
    assert [o["votes_count"] for o in voted["options"]] == [0, 1]
    again = await bob.post(f"/api/v1/polls/{poll['id']}/votes", json={"choices": [0]})
    assert again.status == 422
    notes = await alice.json("get", "/api/v1/notifications")
    assert notes == []  # votes do not notify before the poll ends


async def test_reply_delete_redraft_edit_and_history(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    root = await alice.status("root")
    reply = await bob.status("@alice a reply", in_reply_to_id=root["id"])
    assert reply["in_reply_to_id"] == root["id"]
    assert reply["in_reply_to_account_id"] == alice.id
    ctx = await alice.json("get", f"/api/v1/statuses/{reply['id']}/context")
    assert [s["id"] for s in ctx["ancestors"]] == [root["id"]]
    assert (await alice.json("get", f"/api/v1/statuses/{root['id']}"))["replies_count"] == 1

    edited = await bob.json(
        "put", f"/api/v1/statuses/{reply['id']}", json={"status": "@alice edited #new"}
    )
    assert edited["edited_at"] is not None and "edited" in edited["content"]
    history = await bob.json("get", f"/api/v1/statuses/{reply['id']}/history")
    assert [h["content"].count("edited") for h in history] == [0, 1]
    source = await bob.json("get", f"/api/v1/statuses/{reply['id']}/source")
    assert source == {"id": reply["id"], "text": "@alice edited #new", "spoiler_text": ""}
    # Only the author edits or deletes.
    assert (await alice.put(f"/api/v1/statuses/{reply['id']}", json={"status": "x"})).status == 404
    assert (await alice.delete(f"/api/v1/statuses/{reply['id']}")).status == 404

    gone = await bob.json("delete", f"/api/v1/statuses/{reply['id']}")
    assert gone["text"] == "@alice edited #new"
    assert (await bob.get(f"/api/v1/statuses/{reply['id']}")).status == 404
    assert (await alice.json("get", f"/api/v1/statuses/{root['id']}"))["replies_count"] == 0


async def test_interactions_flags_and_counts(api: Api) -> None:
    alice = await api.user("alice")
    bob = await api.user("bob")
    s = await alice.status("likeable")
    fav = await bob.json("post", f"/api/v1/statuses/{s['id']}/favourite")
    assert fav["favourited"] is True and fav["favourites_count"] == 1
    rb = await bob.json("post", f"/api/v1/statuses/{s['id']}/reblog")
    assert rb["reblog"]["id"] == s["id"] and rb["reblog"]["reblogged"] is True
    assert (await bob.json("post", f"/api/v1/statuses/{s['id']}/reblog"))["id"] == rb[
        "id"
    ]  # idempotent
    bm = await bob.json("post", f"/api/v1/statuses/{s['id']}/bookmark")
    assert bm["bookmarked"] is True
    assert [x["id"] for x in await bob.json("get", "/api/v1/bookmarks")] == [s["id"]]
    pin = await alice.json("post", f"/api/v1/statuses/{s['id']}/pin")
    assert pin["pinned"] is True
    assert (await bob.post(f"/api/v1/statuses/{s['id']}/pin")).status == 422
    pinned = await bob.json("get", f"/api/v1/accounts/{alice.id}/statuses?pinned=true")
    assert [x["id"] for x in pinned] == [s["id"]]
    by = await alice.json("get", f"/api/v1/statuses/{s['id']}/reblogged_by")
    assert [a["username"] for a in by] == ["bob"]
    seen = await alice.json("get", f"/api/v1/statuses/{s['id']}")
    assert (seen["favourites_count"], seen["reblogs_count"]) == (1, 1)
    types = sorted(n["type"] for n in await alice.json("get", "/api/v1/notifications"))
    assert types == ["favourite", "reblog"]
    un = await bob.json("post", f"/api/v1/statuses/{s['id']}/unreblog")
    assert un["reblogged"] is False and un["reblogs_count"] == 0
    unfav = await bob.json("post", f"/api/v1/statuses/{s['id']}/unfavourite")
    assert unfav["favourited"] is False and unfav["favourites_count"] == 0


async def test_idempotency_key(api: Api) -> None:
    alice = await api.user("alice")
    one = await alice.json(
        "post", "/api/v1/statuses", json={"status": "once"}, headers={"Idempotency-Key": "k1"}
    )
    two = await alice.json(
        "post", "/api/v1/statuses", json={"status": "once"}, headers={"Idempotency-Key": "k1"}
    )
    three = await alice.json(
        "post", "/api/v1/statuses", json={"status": "once"}, headers={"Idempotency-Key": "k2"}
    )
    assert one["id"] == two["id"] != three["id"]


async def test_scopes_and_validation(api: Api) -> None:
    reader = await api.user("reader", scopes="read")
    resp = await reader.post("/api/v1/statuses", json={"status": "nope"})
    assert resp.status == 403
    assert await resp.json() == {"error": "This action is outside the authorized scopes"}
    assert (await reader.get("/api/v1/timelines/home")).status == 200
    granular = await api.token_for(reader.account, scopes="write:statuses")
    assert (await granular.post("/api/v1/statuses", json={"status": "yes"})).status == 200
    assert (await granular.get("/api/v1/timelines/home")).status == 403
    assert (await granular.post(f"/api/v1/accounts/{reader.id}/follow")).status == 403
    follow_only = await api.token_for(reader.account, scopes="follow")
    other = await api.user("other")
    assert (await follow_only.post(f"/api/v1/accounts/{other.id}/block")).status == 200
    assert (await api.client.post("/api/v1/statuses", json={"status": "anon"})).status == 401
    assert (await granular.post("/api/v1/statuses", json={"status": ""})).status == 422
    assert (
        await granular.post("/api/v1/statuses", json={"status": "x", "visibility": "bogus"})
    ).status == 422
    assert (await granular.post("/api/v1/statuses", json={"status": "x" * 5001})).status == 422


async def test_tags_keep_the_form_they_were_written_in(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    decomposed = "E\u0301te\u0301"  # "Été" with combining accents
    s = await alice.status(f"#FediNode #日本 #{decomposed} #fedinode again")
    assert [t["name"] for t in s["tags"]] == ["FediNode", "日本", "Été"]
    urls = [t["url"] for t in s["tags"]]
    assert urls == [
        "https://local.test/tags/fedinode",
        "https://local.test/tags/日本",
        "https://local.test/tags/été",
    ]
    # The first written form is the tag's; matching is NFC and case-folded.
    later = await bob.status("#FEDINODE and #été")
    assert [t["name"] for t in later["tags"]] == ["FediNode", "Été"]
    for query in ("fedinode", "FediNode", "FEDINODE"):
        tagged = await alice.json("get", f"/api/v1/timelines/tag/{query}")
        assert [t["id"] for t in tagged] == [later["id"], s["id"]], query
    tagged = await alice.json("get", "/api/v1/timelines/tag/ÉTÉ")
    assert [t["id"] for t in tagged] == [later["id"], s["id"]]
    tag = await alice.json("get", "/api/v1/tags/fedinode")
    assert tag["name"] == "FediNode" and tag["url"] == "https://local.test/tags/fedinode"
    fetched = await alice.json("get", f"/api/v1/statuses/{s['id']}")
    assert [t["name"] for t in fetched["tags"]] == ["FediNode", "日本", "Été"]


async def test_a_body_that_is_no_upload_is_capped_at_max_body_bytes(api: Api) -> None:
    """The app-wide cap admits video uploads; a JSON or form body beyond
    [server] max_body_bytes gets 413 with the limit, and nothing is posted."""
    alice = await api.user("alice")
    cap = api.config.server.max_body_bytes
    big = "x" * (cap + 10)
    for kw in ({"json": {"status": big}}, {"data": {"status": big}}):
        resp = await alice.post("/api/v1/statuses", **kw)
        assert resp.status == 413, await resp.text()
        assert str(cap) in (await resp.json())["error"]
    # chunked, with no Content-Length
    async def chunks():  # type: ignore[no-untyped-def]
        yield b'{"status": "'
        yield big.encode()
        yield b'"}'

    resp = await alice.post(
        "/api/v1/statuses", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert resp.status == 413
    resp = await alice.get(f"/api/v1/accounts/{alice.id}/statuses")
    assert await resp.json() == []
