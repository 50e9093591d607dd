"""Persian, Arabic, Urdu and accented Latin spellings through the client API: one tag, one
tag timeline, one search hit, filters that catch every spelling."""

from __future__ import annotations

from urllib.parse import quote

from api_helpers import Api

KASHIDA = "كـتـاب"


async def test_spellings_land_on_one_tag_timeline(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    posted = [
        await bob.status("#كتاب عربي"),
        await bob.status("#کتاب فارسی"),
        await bob.status(f"#{KASHIDA} کشیده"),
    ]
    for spelling in ("كتاب", "کتاب", KASHIDA):
        timeline = await alice.json("get", f"/api/v1/timelines/tag/{quote(spelling)}")
        assert [s["id"] for s in timeline] == [p["id"] for p in reversed(posted)]
    # The text shows the tag as its author wrote it; the tag keeps the first spelling.
    assert [t["name"] for p in posted for t in p["tags"]] == ["كتاب"] * 3
    assert "#<span>کتاب</span>" in posted[1]["content"]
    tag = await alice.json("get", f"/api/v1/tags/{quote(KASHIDA)}")
    assert tag["name"] == "كتاب"
    found = await alice.json("get", "/api/v2/search", params={"q": "#کتاب", "type": "hashtags"})
    assert [t["name"] for t in found["hashtags"]] == ["كتاب"]
    followed = await alice.json("post", f"/api/v1/tags/{quote('کتاب')}/follow")
    assert followed["following"] is True and followed["name"] == "كتاب"
    assert [t["name"] for t in await alice.json("get", "/api/v1/followed_tags")] == ["كتاب"]
    page = await api.client.get(f"/tags/{quote(KASHIDA)}")
    text = await page.text()
    assert page.status == 200 and "#كتاب" in text and "کشیده" in text and "عربي" in text


async def test_cafe_folds_as_mastodon_does(api: Api) -> None:
    alice = await api.user("alice")
    first = await alice.status("#Café au lait")
    second = await alice.status("#cafe time")
    timeline = await alice.json("get", "/api/v1/timelines/tag/CAFE")
    assert [s["id"] for s in timeline] == [second["id"], first["id"]]


async def test_filters_catch_every_spelling(api: Api) -> None:
    alice, bob = await api.user("alice"), await api.user("bob")
    await alice.json("post", f"/api/v1/accounts/{bob.id}/follow")
    await alice.json(
        "post",
        "/api/v2/filters",
        json={
            "title": "books",
            "context": ["home"],
            "filter_action": "warn",
            "keywords_attributes": [{"keyword": "كتاب", "whole_word": False}],
        },
    )
    hits = [
        await bob.status("یک کتاب خوب"),
        await bob.status(f"#{KASHIDA}"),
        await bob.status("ﻛﺘﺎﺏ"),
    ]
    miss = await bob.status("کتب")
    home = {s["id"]: s for s in await alice.json("get", "/api/v1/timelines/home")}
    for hit in hits:
        assert home[hit["id"]]["filtered"][0]["keyword_matches"] == ["كتاب"]
    assert home[miss["id"]]["filtered"] == []
