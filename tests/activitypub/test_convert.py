"""Converters: our documents round-trip, and the shapes other servers send are read."""

from __future__ import annotations

from typing import Any

import pytest
import remote_objects

from activitypub.convert import (
    actor_from_as,
    actor_to_as,
    addressing,
    note_from_as,
    note_to_as,
    visibility_of,
)
from activitypub.errors import MalformedActivity
from activitypub.urls import Urls
from activitypub.vocab import PUBLIC
from storage.models import Account, MediaAttachment, Poll, Status, Tag

URLS = Urls("https://home.example")
AS = "https://www.w3.org/ns/activitystreams"


def _account(**over: Any) -> Account:
    base: dict[str, Any] = dict(
        id=1, username="alice", domain="", uri=URLS.actor("alice"), url=URLS.profile_page("alice"),
        actor_type="Person", display_name="Alice", note="<p>hi</p>", note_source="hi",
        avatar_url="https://home.example/media/a.png", header_url="", locked=True, bot=False,
        discoverable=True, indexable=False, fields=[{"name": "Site", "value": "<a href=\"https://a.example\">a</a>"}],
        emojis=[], also_known_as=["https://old.example/users/alice"], moved_to_account_id=None,
        inbox_url=URLS.inbox("alice"), outbox_url=URLS.outbox("alice"), shared_inbox_url=URLS.shared_inbox,
        followers_url=URLS.followers("alice"), following_url=URLS.following("alice"),
        featured_url=URLS.featured("alice"), public_key_id=URLS.key_id("alice"),
        public_key_pem="-----BEGIN PUBLIC KEY-----\nX\n-----END PUBLIC KEY-----\n", private_key_pem="",
        statuses_count=0, followers_count=0, following_count=0, last_status_at=None, silenced=False,
        suspended=False, created_at=1_700_000_000_000, updated_at=1_700_000_000_000, fetched_at=None,
        avatar_cache="", header_cache="",
    )  # fmt: skip
    base.update(over)
    return Account(**base)


def _status(**over: Any) -> Status:
    base: dict[str, Any] = dict(
        id=42, uri=URLS.status("alice", 42), url=URLS.status("alice", 42), account_id=1, local=True,
        in_reply_to_id=None, in_reply_to_uri=None, in_reply_to_account_id=None, reblog_of_id=None,
        conversation="tag:home.example,2026:42", content="<p>hello #日本</p>", text="hello #日本",
        spoiler_text="", sensitive=False, visibility="public", language="ja", emojis=[],
        application_id=None, replies_count=0, reblogs_count=0, favourites_count=0,
        created_at=1_700_000_000_000, edited_at=None, deleted_at=None,
    )  # fmt: skip
    base.update(over)
    return Status(**base)


def test_actor_round_trip() -> None:
    alice = _account()
    doc = actor_to_as(alice, URLS)
    assert doc["publicKey"]["owner"] == alice.uri
    assert doc["endpoints"]["sharedInbox"] == "https://home.example/inbox"
    assert doc["manuallyApprovesFollowers"] is True
    assert doc["attachment"][0]["type"] == "PropertyValue"
    back = actor_from_as(doc)
    assert (back.username, back.domain, back.uri) == ("alice", "home.example", alice.uri)
    assert back.locked and back.discoverable and not back.indexable
    assert back.public_key_id == alice.public_key_id
    assert back.shared_inbox_url == alice.shared_inbox_url
    assert back.also_known_as == alice.also_known_as
    assert back.fields[0]["name"] == "Site" and "a.example" in back.fields[0]["value"]
    assert back.avatar_url == alice.avatar_url


def test_note_round_trip_keeps_what_users_see() -> None:
    alice = _account()
    bob = _account(id=2, username="bob", domain="b.example", uri="https://b.example/users/bob")
    media = MediaAttachment(
        id=7, account_id=1, status_id=42, type="image", content_type="image/png", file_path="x/7.png",
        preview_path="", remote_url="", description="a cat", focus_x=0.5, focus_y=-0.25,
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj", meta={"width": 640, "height": 480}, size=1,
        position=0, created_at=1,
    )  # fmt: skip
    poll = Poll(id=9, status_id=42, options=["yes", "no"], votes=[3, 1], multiple=False,
                hide_totals=False, voters_count=4, expires_at=1_800_000_000_000, created_at=1)  # fmt: skip
    status = _status(visibility="unlisted", spoiler_text="cw", sensitive=True)
    doc = note_to_as(
        status, alice, URLS, local_domain="home.example", mentions=[bob],
        tags=[Tag(id=1, name="日本", display_name="日本", created_at=1)], media=[media], poll=poll,
    )  # fmt: skip
    assert doc["type"] == "Question"
    assert doc["to"] == [URLS.followers("alice")] and PUBLIC in doc["cc"] and bob.uri in doc["cc"]
    assert {"type": "Mention", "href": bob.uri, "name": "@bob@b.example"} in doc["tag"]
    parsed = note_from_as(doc, followers_url=URLS.followers("alice"))
    assert parsed.visibility == "unlisted"
    assert parsed.content == "<p>hello #日本</p>"
    assert parsed.spoiler_text == "cw" and parsed.sensitive
    assert parsed.language == "ja"
    assert parsed.mentions == [bob.uri]
    assert parsed.hashtags == ["日本"]
    assert parsed.media[0].url == "https://home.example/media/x/7.png"
    assert parsed.media[0].description == "a cat" and parsed.media[0].focus == (0.5, -0.25)
    assert parsed.media[0].type == "image" and parsed.media[0].width == 640
    assert parsed.poll is not None and parsed.poll.options == ["yes", "no"]
    assert parsed.poll.votes == [3, 1] and parsed.poll.expires_at == 1_800_000_000_000


@pytest.mark.parametrize(
    ("visibility", "to", "cc"),
    [
        ("public", [PUBLIC], ["F", "M"]),
        ("unlisted", ["F"], [PUBLIC, "M"]),
        ("private", ["F", "M"], []),
        ("direct", ["M"], []),
    ],
)
def test_addressing_by_visibility_reads_back(visibility: str, to: list[str], cc: list[str]) -> None:
    assert addressing(visibility, "F", ["M"]) == (to, cc)
    assert visibility_of(to, cc, "F", ["M"]) == visibility


# --- what other servers send --------------------------------------------------------------

MASTODON_NOTE = {
    "@context": [AS, {"ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri",
                      "sensitive": "as:sensitive", "toot": "http://joinmastodon.org/ns#"}],
    "id": "https://mastodon.example/users/gargron/statuses/1",
    "type": "Note",
    "summary": None,
    "inReplyTo": None,
    "published": "2026-01-02T03:04:05Z",
    "url": "https://mastodon.example/@gargron/1",
    "attributedTo": "https://mastodon.example/users/gargron",
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
    "cc": ["https://mastodon.example/users/gargron/followers", "https://home.example/users/alice"],
    "sensitive": False,
    "conversation": "tag:mastodon.example,2026-01-02:objectId=1:objectType=Conversation",
    "content": '<p><span class="h-card"><a href="https://home.example/@alice" class="u-url mention">@<span>alice</span></a></span> hi <a href="https://mastodon.example/tags/test" class="mention hashtag" rel="tag">#<span>test</span></a></p>',
    "contentMap": {"en": "<p>hi</p>"},
    "attachment": [{"type": "Document", "mediaType": "image/jpeg", "url": "https://files.mastodon.example/1.jpg",
                    "name": "alt text", "blurhash": "UDH", "focalPoint": [0.0, 0.0], "width": 800, "height": 600}],
    "tag": [
        {"type": "Mention", "href": "https://home.example/users/alice", "name": "@alice@home.example"},
        {"type": "Hashtag", "href": "https://mastodon.example/tags/test", "name": "#test"},
        {"id": "https://mastodon.example/emojis/1", "type": "Emoji", "name": ":blobcat:",
         "icon": {"type": "Image", "mediaType": "image/png", "url": "https://files.mastodon.example/blobcat.png"}},
    ],
    "replies": {"id": "https://mastodon.example/users/gargron/statuses/1/replies", "type": "Collection"},
}  # fmt: skip

AKKOMA_NOTE = {
    "@context": [AS, "https://akkoma.example/schemas/litepub-0.1.jsonld", {"@language": "und"}],
    "id": "https://akkoma.example/objects/8f9c",
    "type": "Note",
    "actor": "https://akkoma.example/users/lain",
    "attributedTo": "https://akkoma.example/users/lain",
    "to": "https://akkoma.example/users/lain/followers",
    "cc": [],
    "context": "https://akkoma.example/contexts/abc",
    "content": "followers only post<br>with a break",
    "source": {"content": "followers only post\nwith a break", "mediaType": "text/plain"},
    "published": "2026-01-02T03:04:05.123456Z",
    "sensitive": None,
    "summary": "",
    "tag": {"type": "Hashtag", "href": "https://akkoma.example/tags/Pleroma", "name": "#Pleroma"},
    "attachment": {"type": "Document", "mediaType": "video/mp4", "name": "",
                   "url": [{"type": "Link", "mediaType": "video/mp4", "href": "https://akkoma.example/media/v.mp4"}]},
}  # fmt: skip

MISSKEY_NOTE = {
    "@context": [AS, "https://w3id.org/security/v1", {"Key": "sec:Key", "_misskey_content": "misskey:_misskey_content",
                                                      "misskey": "https://misskey-hub.net/ns#"}],
    "id": "https://misskey.example/notes/9abc",
    "type": "Note",
    "attributedTo": "https://misskey.example/users/9xyz",
    "content": "<p><span>CW body</span></p>",
    "_misskey_content": "CW body",
    "source": {"content": "CW body", "mediaType": "text/x.misskeymarkdown"},
    "published": "2026-01-02T03:04:05.000Z",
    "to": ["https://www.w3.org/ns/activitystreams#Public"],
    "cc": ["https://misskey.example/users/9xyz/followers"],
    "inReplyTo": "https://home.example/users/alice/statuses/42",
    "attachment": [],
    "sensitive": True,
    "summary": "spoiler!",
    "tag": [{"type": "Emoji", "id": "https://misskey.example/emojis/ai", "name": ":ai:",
             "updated": "2026-01-01T00:00:00.000Z",
             "icon": {"type": "Image", "mediaType": "image/png", "url": "https://misskey.example/files/ai.png"}}],
    "quoteUrl": "https://misskey.example/notes/9abb",
}  # fmt: skip

GOTOSOCIAL_NOTE = {
    "@context": [AS, "https://gotosocial.org/ns"],
    "id": "https://gts.example/users/tobi/statuses/01HF",
    "type": "Note",
    "attributedTo": "https://gts.example/users/tobi",
    "content": "<p>direct to <span class=\"h-card\"><a href=\"https://home.example/@alice\" class=\"u-url mention\">@alice</a></span></p>",
    "contentMap": {"en": "<p>direct</p>"},
    "to": "https://home.example/users/alice",
    "cc": [],
    "published": "2026-01-02T03:04:05Z",
    "url": "https://gts.example/@tobi/statuses/01HF",
    "tag": {"type": "Mention", "href": "https://home.example/users/alice", "name": "@alice@home.example"},
    "attachment": [],
    "interactionPolicy": {"canLike": {"always": ["https://www.w3.org/ns/activitystreams#Public"]}},
}  # fmt: skip

ARTICLE = {
    "@context": AS,
    "id": "https://blog.example/posts/1",
    "type": ["Article"],
    "name": "A <b>title</b>",
    "attributedTo": [{"type": "Person", "id": "https://blog.example/author"}],
    "content": "<p>Body</p>",
    "url": {
        "type": "Link",
        "href": "https://blog.example/2026/01/a-title",
        "mediaType": "text/html",
    },
    "to": ["as:Public"],
}


def test_mastodon_note() -> None:
    parsed = note_from_as(
        MASTODON_NOTE, followers_url="https://mastodon.example/users/gargron/followers"
    )
    assert parsed.visibility == "public"
    assert parsed.url == "https://mastodon.example/@gargron/1"
    assert parsed.mentions == ["https://home.example/users/alice"]
    assert parsed.hashtags == ["test"]
    assert parsed.emojis[0]["shortcode"] == "blobcat"
    assert parsed.media[0].description == "alt text" and parsed.media[0].width == 800
    assert 'class="h-card"' in parsed.content and 'class="u-url mention"' in parsed.content
    assert parsed.language == "en"
    assert parsed.published == 1_767_323_045_000


def test_akkoma_note_with_single_values_instead_of_lists() -> None:
    parsed = note_from_as(AKKOMA_NOTE, followers_url="https://akkoma.example/users/lain/followers")
    assert parsed.visibility == "private"
    assert parsed.hashtags == ["Pleroma"]
    assert parsed.media[0].url == "https://akkoma.example/media/v.mp4"
    assert parsed.media[0].type == "video"
    assert parsed.conversation == "https://akkoma.example/contexts/abc"
    assert parsed.sensitive is False


def test_misskey_note_with_cw_and_reply() -> None:
    parsed = note_from_as(MISSKEY_NOTE)
    assert parsed.spoiler_text == "spoiler!" and parsed.sensitive
    assert parsed.in_reply_to == "https://home.example/users/alice/statuses/42"
    assert parsed.emojis[0]["url"] == "https://misskey.example/files/ai.png"
    assert parsed.visibility == "public"


def test_gotosocial_direct_note() -> None:
    parsed = note_from_as(GOTOSOCIAL_NOTE, followers_url="https://gts.example/users/tobi/followers")
    assert parsed.visibility == "direct"
    assert parsed.mentions == ["https://home.example/users/alice"]


def test_article_becomes_a_note_with_title_and_link() -> None:
    parsed = note_from_as(ARTICLE)
    assert parsed.content.startswith("<p><strong>A title</strong></p><p>Body</p>")
    assert "https://blog.example/2026/01/a-title" in parsed.content
    assert parsed.attributed_to == "https://blog.example/author"
    assert parsed.visibility == "public"


def test_remote_html_is_sanitised() -> None:
    evil = {**MASTODON_NOTE, "content": '<p onclick="x()">hi<script>alert(1)</script><img src=x></p>',
            "contentMap": None}  # fmt: skip
    parsed = note_from_as(evil)
    assert parsed.content == "<p>hi</p>"


@pytest.mark.parametrize(
    "bad",
    [None, [], {}, {"id": "https://x.example/1", "type": "Note"},
     {"id": "not a url", "type": "Note", "attributedTo": "https://x.example/a"},
     {"id": "https://x.example/1", "type": "Person", "attributedTo": "https://x.example/a"}],
)  # fmt: skip
def test_unusable_objects_are_malformed(bad: Any) -> None:
    with pytest.raises(MalformedActivity):
        note_from_as(bad)


MISSKEY_ACTOR = {
    "@context": [AS, "https://w3id.org/security/v1"],
    "type": "Person",
    "id": "https://misskey.example/users/9xyz",
    "inbox": "https://misskey.example/users/9xyz/inbox",
    "outbox": "https://misskey.example/users/9xyz/outbox",
    "followers": "https://misskey.example/users/9xyz/followers",
    "sharedInbox": "https://misskey.example/inbox",
    "endpoints": {"sharedInbox": "https://misskey.example/inbox"},
    "preferredUsername": "syuilo",
    "name": "しゅいろ",
    "summary": "<p>Misskey <script>x</script></p>",
    "icon": {"type": "Image", "url": "https://misskey.example/files/avatar.webp", "sensitive": False, "name": None},
    "image": None,
    "tag": [],
    "manuallyApprovesFollowers": False,
    "discoverable": True,
    "publicKey": {"id": "https://misskey.example/users/9xyz#main-key", "type": "Key",
                  "owner": "https://misskey.example/users/9xyz", "publicKeyPem": "PEM"},
    "isCat": True,
    "attachment": [{"type": "PropertyValue", "name": "Web", "value": "https://misskey.example"}],
}  # fmt: skip

GTS_SERVICE_ACTOR = {
    "@context": AS,
    "type": "Service",
    "id": "https://gts.example/users/bot",
    "inbox": {"id": "https://gts.example/users/bot/inbox"},
    "preferredUsername": "bot",
    "publicKey": [{"id": "https://gts.example/users/bot/main-key", "owner": "https://gts.example/users/bot",
                   "publicKeyPem": "PEM2"}],
    "icon": [{"type": "Image", "url": "https://gts.example/a.png"}],
    "alsoKnownAs": "https://old.example/users/bot",
}  # fmt: skip


def test_misskey_actor() -> None:
    new = actor_from_as(MISSKEY_ACTOR)
    assert (new.username, new.domain) == ("syuilo", "misskey.example")
    assert new.display_name == "しゅいろ" and "script" not in new.note
    assert new.shared_inbox_url == "https://misskey.example/inbox"
    assert new.public_key_id == "https://misskey.example/users/9xyz#main-key"
    assert new.avatar_url == "https://misskey.example/files/avatar.webp"
    assert new.fields == [{"name": "Web", "value": "https://misskey.example"}]


def test_service_actor_with_lists_and_objects() -> None:
    new = actor_from_as(GTS_SERVICE_ACTOR)
    assert new.bot and new.actor_type == "Service"
    assert new.inbox_url == "https://gts.example/users/bot/inbox"
    assert new.public_key_pem == "PEM2"
    assert new.avatar_url == "https://gts.example/a.png"
    assert new.also_known_as == ["https://old.example/users/bot"]
    assert new.shared_inbox_url == ""


def test_actor_without_inbox_is_malformed() -> None:
    with pytest.raises(MalformedActivity):
        actor_from_as({**MISSKEY_ACTOR, "inbox": None})


# --------------------------------------------------------------------------- other object types
# PeerTube, Pixelfed, Funkwhale and Mobilizon objects become statuses the way Mastodon shows
# them: the title, the summary and a link to the original, with the media as attachments.

TUBE = "https://tube.example"
TUBE_ACCOUNT = f"{TUBE}/accounts/framasoft"
WATCH = f"{TUBE}/videos/watch/{remote_objects.UUID}"


def test_peertube_video_is_title_description_link_and_one_video() -> None:
    doc = remote_objects.peertube_video(TUBE, TUBE_ACCOUNT, f"{TUBE}/video-channels/tour")
    parsed = note_from_as(doc, followers_url=f"{TUBE_ACCOUNT}/followers")
    assert parsed.type == "Video" and parsed.attributed_to == TUBE_ACCOUNT
    assert parsed.content.startswith("<p><strong>A tour of PeerTube 7</strong></p>")
    # The description is markdown: shown as text (escaped), its bare links made links.
    assert "A **short** tour &lt;script&gt;" in parsed.content and "<script" not in parsed.content
    assert "Chapters:<br>0:00 Intro<br>1:10 Studio" in parsed.content
    assert '<a href="https://joinpeertube.org"' in parsed.content
    assert parsed.content.endswith(f'<p><a href="{WATCH}">{WATCH}</a></p>')
    assert parsed.url == WATCH and parsed.spoiler_text == "" and not parsed.sensitive
    # One rendition of the video, not one attachment per resolution: the largest up to 720p.
    [video] = parsed.media
    assert (video.type, video.media_type) == ("video", "video/mp4")
    assert video.url == f"{TUBE}/static/web-videos/{remote_objects.UUID}-720.mp4"
    assert (video.width, video.height) == (1280, 720)
    assert parsed.hashtags == ["peertube", "fediverse"]
    assert parsed.language == "en" and parsed.visibility == "public"


def test_peertube_video_with_hls_only_uses_a_fragmented_mp4() -> None:
    doc = remote_objects.peertube_video(TUBE, TUBE_ACCOUNT, f"{TUBE}/video-channels/tour",
                                        web_videos=False)  # fmt: skip
    [video] = note_from_as(doc).media
    assert video.type == "video" and video.url.endswith(f"{remote_objects.UUID}-720-fragmented.mp4")


def test_video_links_with_other_schemes_or_kinds_are_not_media() -> None:
    doc = remote_objects.peertube_video(TUBE, TUBE_ACCOUNT, f"{TUBE}/video-channels/tour",
                                        web_videos=False)  # fmt: skip
    doc["url"] = [
        {"type": "Link", "mediaType": "text/html", "href": WATCH},
        {"type": "Link", "mediaType": "video/mp4", "href": "javascript:alert(1)", "height": 720},
        {"type": "Link", "mediaType": "audio/mp4", "href": f"{TUBE}/audio-only.mp4"},
        {"type": "Link", "mediaType": "application/x-bittorrent", "href": f"{TUBE}/t.torrent"},
    ]
    parsed = note_from_as(doc)
    assert parsed.media == [] and parsed.url == WATCH


def test_pixelfed_note_with_image_attachment() -> None:
    doc = remote_objects.pixelfed_note("https://pix.example", "https://pix.example/users/dansup")
    parsed = note_from_as(doc, followers_url="https://pix.example/users/dansup/followers")
    assert parsed.type == "Note" and "Golden hour at the lake" in parsed.content
    [photo] = parsed.media
    assert (photo.type, photo.media_type) == ("image", "image/jpeg")
    assert photo.url == "https://pix.example/storage/m/_v2/70123/abc/def/lake.jpg"
    assert photo.description == "A lake at sunset, reeds in front"
    assert (photo.width, photo.height) == (1080, 1350) and photo.blurhash
    assert parsed.hashtags == ["sunset"] and parsed.visibility == "public"


def test_bare_image_is_title_summary_link_and_the_photo() -> None:
    doc = remote_objects.bare_image("https://photos.example", "https://photos.example/users/ana")
    parsed = note_from_as(doc)
    page = "https://photos.example/photos/42/view"
    assert parsed.type == "Image"
    assert parsed.content == (
        "<p><strong>Harbour at dawn</strong></p><p>Shot on film, pushed one stop.</p>"
        f'<p><a href="{page}">{page}</a></p>'
    )
    # As Mastodon does for converted types, the summary is text, not a content warning.
    assert parsed.spoiler_text == "" and not parsed.sensitive
    assert parsed.url == page
    [photo] = parsed.media
    assert photo.type == "image" and photo.url == "https://photos.example/media/harbour-2048.jpg"
    assert (photo.width, photo.height) == (2048, 1365)


def test_bare_image_whose_url_is_the_file() -> None:
    doc = {**remote_objects.bare_image("https://photos.example", "https://photos.example/users/ana"),
           "url": "https://photos.example/media/harbour.png", "mediaType": "image/png"}  # fmt: skip
    parsed = note_from_as(doc)
    [photo] = parsed.media
    assert (photo.type, photo.url) == ("image", "https://photos.example/media/harbour.png")
    # The file is not a page: the link goes to the object itself.
    assert parsed.url == "https://photos.example/photos/42"


def test_funkwhale_audio_reads_mimetype_links() -> None:
    channel = "https://music.example/federation/actors/lanterns"
    parsed = note_from_as(remote_objects.funkwhale_audio("https://music.example", channel))
    assert parsed.type == "Audio" and parsed.attributed_to == channel
    assert parsed.content.startswith(
        "<p><strong>Tidal Drift - Night Swims - The Lanterns</strong></p>"
        "<p>#Ambient #Electronic</p><p>Recorded live at the pier.</p>"
    )
    assert parsed.url == "https://music.example/library/tracks/12"
    assert 'href="https://music.example/library/tracks/12"' in parsed.content
    [track] = parsed.media
    assert (track.type, track.media_type) == ("audio", "audio/mpeg")
    assert track.url.startswith("https://music.example/api/v1/listen/")
    assert parsed.spoiler_text == "" and parsed.visibility == "public"
    assert parsed.hashtags == ["Ambient", "Electronic"]


def test_mobilizon_event_shows_when_and_where() -> None:
    actor = "https://mobilizon.example/@tcit"
    parsed = note_from_as(remote_objects.mobilizon_event("https://mobilizon.example", actor))
    event = "https://mobilizon.example/events/252d5816-00a3-4a89-a66f-15bf65c33e39"
    assert parsed.type == "Event" and parsed.attributed_to == actor
    assert parsed.content.startswith(
        "<p><strong>Mobilizon Launching Party</strong></p>"
        "<p>2026-12-18 13:00 – 2026-12-18 14:00 UTC</p>"
        "<p>Cour du Château des Ducs de Bretagne, 4 Place Marc Elder, Nantes, France</p>"
        "<p>Mobilizon is now federated! 🎉</p>"
    )
    assert "<img" not in parsed.content and "onerror" not in parsed.content
    assert parsed.content.endswith(f'<p><a href="{event}">{event}</a></p>')
    [banner] = parsed.media  # the online-address Link is not media
    assert (
        banner.type == "image" and banner.url == "https://mobilizon.example/media/8a7d6c5b4a39.jpg"
    )
    assert parsed.hashtags == ["Mobilizon", "Party"] and parsed.visibility == "public"


def _undefined_terms(node: Any, found: set[str]) -> set[str]:
    """Keys that JSON-LD expansion mapped to blank-node predicates (the AS2 context's
    ``@vocab: "_:"``): terms our context never defined, which canonicalisation drops, so an
    LD signature would not cover them and strict peers (Fedify) refuse the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("_:"):
                found.add(key[2:])
            _undefined_terms(value, found)
    elif isinstance(node, list):
        for item in node:
            _undefined_terms(item, found)
    return found


def test_every_term_we_emit_is_defined_by_our_context() -> None:
    from pyld import jsonld

    from activitypub.jsonld import canonical_loader
    from activitypub.vocab import DEFAULT_CONTEXT

    alice = _account(emojis=[{"shortcode": "cat", "url": "https://home.example/e/cat.png"}])
    bob = _account(id=2, username="bob", domain="b.example", uri="https://b.example/users/bob")
    media = MediaAttachment(
        id=7, account_id=1, status_id=42, type="image", content_type="image/png", file_path="x/7.png",
        preview_path="", remote_url="", description="a cat", focus_x=0.5, focus_y=-0.25,
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj", meta={"width": 640, "height": 480}, size=1,
        position=0, created_at=1,
    )  # fmt: skip
    poll = Poll(id=9, status_id=42, options=["yes", "no"], votes=[3, 1], multiple=False,
                hide_totals=False, voters_count=4, expires_at=1_800_000_000_000, created_at=1)  # fmt: skip
    note = note_to_as(
        _status(spoiler_text="cw", sensitive=True, emojis=[{"shortcode": "cat", "url": "https://home.example/e/cat.png"}]),
        alice, URLS, local_domain="home.example", mentions=[bob],
        tags=[Tag(id=1, name="日本", display_name="日本", created_at=1)], media=[media], poll=poll,
    )  # fmt: skip
    tombstone = {"id": note["id"], "type": "Tombstone", "atomUri": note["id"]}
    delete = {"id": f"{note['id']}#delete", "type": "Delete", "actor": alice.uri, "object": tombstone}
    for doc in (actor_to_as(alice, URLS), note, delete):
        expanded = jsonld.expand(
            {"@context": DEFAULT_CONTEXT, **doc}, {"documentLoader": canonical_loader}
        )
        assert _undefined_terms(expanded, set()) == set(), doc["type"]
