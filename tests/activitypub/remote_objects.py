"""What PeerTube, Pixelfed, Funkwhale and Mobilizon publish, written by hand from their
source and test fixtures (PeerTube's VideoObject, Pixelfed's Note transformer, Funkwhale's
ChannelUploadSerializer, Mobilizon's Event converter), parameterised by where they live so
the loopback tests can serve them from a fake peer."""

from __future__ import annotations

from typing import Any

AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
UUID = "9c9de5e8-0a1e-484a-b099-e80766180a6d"


def _codecs(*kinds: str) -> list[dict[str, Any]]:
    return [
        *({"type": "PropertyValue", "name": "ffprobe_codec_type", "value": k} for k in kinds),
        {"type": "PropertyValue", "name": "peertube_format_flag", "value": "web-video"},
    ]


def peertube_video(
    origin: str, account: str, channel: str, *, web_videos: bool = True
) -> dict[str, Any]:
    """A PeerTube 7 Video: markdown description, a ``url`` list of Links (the watch page,
    web-video MP4s per resolution with their metadata/torrent/magnet Links, the HLS
    playlist whose ``tag`` lists fragmented MP4s), thumbnails in ``icon``, and two
    attributions (the account, then the channel)."""
    watch = f"{origin}/videos/watch/{UUID}"
    files: list[dict[str, Any]] = []
    if web_videos:
        for height, width, size in (
            (1080, 1920, 48_311_201),
            (720, 1280, 21_044_310),
            (480, 854, 9_873_002),
        ):
            mp4 = f"{origin}/static/web-videos/{UUID}-{height}.mp4"
            files += [
                {
                    "type": "Link",
                    "mediaType": "video/mp4",
                    "href": mp4,
                    "height": height,
                    "width": width,
                    "size": size,
                    "fps": 30,
                    "attachment": _codecs("video", "audio"),
                },
                {
                    "type": "Link",
                    "rel": ["metadata", "video/mp4"],
                    "mediaType": "application/json",
                    "href": f"{origin}/api/v1/videos/{UUID}/metadata/{height}",
                    "height": height,
                    "width": width,
                    "fps": 30,
                },
                {
                    "type": "Link",
                    "mediaType": "application/x-bittorrent",
                    "href": f"{origin}/lazy-static/torrents/{UUID}-{height}.torrent",
                    "height": height,
                    "width": width,
                    "fps": 30,
                },
                {
                    "type": "Link",
                    "mediaType": "application/x-bittorrent;x-scheme-handler/magnet",
                    "href": f"magnet:?xs={origin}/lazy-static/torrents/{UUID}-{height}.torrent"
                    f"&xt=urn:btih:0123456789abcdef&dn=Tour&ws={mp4}",
                    "height": height,
                    "width": width,
                    "fps": 30,
                },
            ]
    hls = f"{origin}/static/streaming-playlists/hls/{UUID}"
    files.append(
        {
            "type": "Link",
            "mediaType": "application/x-mpegURL",
            "href": f"{hls}/master.m3u8",
            "tag": [
                {"type": "Infohash", "name": "4b6a2c5e1f0d9e8c7b6a5f4e3d2c1b0a9f8e7d6c"},
                {
                    "type": "Link",
                    "name": "sha256",
                    "mediaType": "application/json",
                    "href": f"{hls}/segments-sha256.json",
                },
                {
                    "type": "Link",
                    "mediaType": "video/mp4",
                    "href": f"{hls}/{UUID}-720-fragmented.mp4",
                    "height": 720,
                    "width": 1280,
                    "size": 20_988_120,
                    "fps": 30,
                    "attachment": _codecs("video", "audio"),
                },
            ],
        }
    )
    return {
        "@context": [
            AS,
            "https://w3id.org/security/v1",
            {"RsaSignature2017": "https://w3id.org/security#RsaSignature2017"},
            {
                "pt": "https://joinpeertube.org/ns#",
                "sc": "http://schema.org/",
                "Hashtag": "as:Hashtag",
                "uuid": "sc:identifier",
                "category": "sc:category",
                "licence": "sc:license",
                "sensitive": "as:sensitive",
                "state": "pt:state",
                "views": {"@type": "sc:Number", "@id": "pt:views"},
            },
        ],
        "type": "Video",
        "id": watch,
        "name": "A tour of PeerTube 7",
        "duration": "PT127S",
        "uuid": UUID,
        "tag": [{"type": "Hashtag", "name": "peertube"}, {"type": "Hashtag", "name": "fediverse"}],
        "category": {"identifier": "15", "name": "Science & Technology"},
        "licence": {"identifier": "1", "name": "Attribution"},
        "language": {"identifier": "en", "name": "English"},
        "subtitleLanguage": [],
        "views": 42,
        "sensitive": False,
        "isLiveBroadcast": False,
        "waitTranscoding": True,
        "state": 1,
        "commentsEnabled": True,
        "commentsPolicy": 1,
        "canReply": None,
        "downloadEnabled": True,
        "published": "2026-03-01T10:00:00.000Z",
        "originallyPublishedAt": None,
        "updated": "2026-03-01T10:05:00.000Z",
        "uploadDate": "2026-03-01T09:58:00.000Z",
        "mediaType": "text/markdown",
        "content": "A **short** tour <script>alert(1)</script>of the new player.\n\n"
        "Chapters:\n0:00 Intro\n1:10 Studio\n\nMore at https://joinpeertube.org",
        "support": None,
        "aspectRatio": 1.7778,
        "icon": [
            {
                "type": "Image",
                "url": f"{origin}/lazy-static/thumbnails/{UUID}.jpg",
                "mediaType": "image/jpeg",
                "width": 280,
                "height": 157,
            },
            {
                "type": "Image",
                "url": f"{origin}/lazy-static/previews/{UUID}.jpg",
                "mediaType": "image/jpeg",
                "width": 850,
                "height": 480,
            },
        ],
        "url": [
            {"type": "Link", "mediaType": "text/html", "href": watch},
            *files,
            {
                "type": "Link",
                "name": "tracker-http",
                "rel": ["tracker", "http"],
                "href": f"{origin}/tracker/announce",
            },
        ],
        "likes": f"{watch}/likes",
        "dislikes": f"{watch}/dislikes",
        "shares": f"{watch}/announces",
        "comments": f"{watch}/comments",
        "hasParts": f"{watch}/chapters",
        "attributedTo": [{"type": "Person", "id": account}, {"type": "Group", "id": channel}],
        "to": [PUBLIC],
        "cc": [f"{account}/followers"],
    }


def pixelfed_note(origin: str, actor: str) -> dict[str, Any]:
    """A Pixelfed post: a Note whose photos are Image attachments with blurhash and size."""
    post = f"{origin}/p/{actor.rsplit('/', 1)[-1]}/701234567890123456"
    return {
        "@context": [
            AS,
            "https://w3id.org/security/v1",
            {
                "sc": "http://schema.org#",
                "Hashtag": "as:Hashtag",
                "sensitive": "as:sensitive",
                "commentsEnabled": {"@id": "pixelfed:commentsEnabled", "@type": "sc:Boolean"},
                "capabilities": {"@id": "pixelfed:capabilities", "@container": "@set"},
                "announce": {"@id": "pixelfed:canAnnounce", "@type": "@id"},
                "like": {"@id": "pixelfed:canLike", "@type": "@id"},
                "reply": {"@id": "pixelfed:canReply", "@type": "@id"},
                "toot": "http://joinmastodon.org/ns#",
                "Emoji": "toot:Emoji",
                "blurhash": "toot:blurhash",
            },
        ],
        "id": post,
        "type": "Note",
        "summary": None,
        "content": 'Golden hour at the lake <a href="' + origin + '/discover/tags/sunset?src=hash"'
        ' title="#sunset" class="u-url hashtag" rel="external nofollow noopener">#sunset</a>',
        "inReplyTo": None,
        "published": "2026-03-02T18:04:05+00:00",
        "url": post,
        "attributedTo": actor,
        "to": [PUBLIC],
        "cc": [f"{actor}/followers"],
        "sensitive": False,
        "attachment": [
            {
                "type": "Image",
                "mediaType": "image/jpeg",
                "url": f"{origin}/storage/m/_v2/70123/abc/def/lake.jpg",
                "name": "A lake at sunset, reeds in front",
                "blurhash": "U9Fi}U~q00M{IUt7M{WB00WB",
                "width": 1080,
                "height": 1350,
            },
        ],
        "tag": [{"type": "Hashtag", "href": f"{origin}/discover/tags/sunset", "name": "#sunset"}],
        "commentsEnabled": True,
        "capabilities": {"announce": PUBLIC, "like": PUBLIC, "reply": PUBLIC},
        "location": None,
    }


def bare_image(origin: str, actor: str) -> dict[str, Any]:
    """An Image object on its own (photo apps): the photo in several sizes and the page."""
    page = f"{origin}/photos/42"
    return {
        "@context": AS,
        "type": "Image",
        "id": page,
        "attributedTo": actor,
        "name": "Harbour at dawn",
        "summary": "Shot on film, pushed one stop.",
        "mediaType": "image/jpeg",
        "url": [
            {
                "type": "Link",
                "mediaType": "image/jpeg",
                "href": f"{origin}/media/harbour-640.jpg",
                "width": 640,
                "height": 427,
            },
            {
                "type": "Link",
                "mediaType": "image/jpeg",
                "href": f"{origin}/media/harbour-2048.jpg",
                "width": 2048,
                "height": 1365,
            },
            {"type": "Link", "mediaType": "text/html", "href": f"{page}/view"},
        ],
        "published": "2026-03-03T06:30:00Z",
        "to": [PUBLIC],
        "cc": [f"{actor}/followers"],
    }


def funkwhale_audio(origin: str, channel: str) -> dict[str, Any]:
    """A track uploaded to a Funkwhale channel: ``url`` Links carry ``mimeType`` (not
    ``mediaType``), ``summary`` holds hashtags, ``to`` is a single string."""
    upload = "3f1a6c0e-58b2-4d7e-9a4f-2b9c8d7e6f5a"
    return {
        "@context": [AS, "https://w3id.org/security/v1", {"fw": "https://funkwhale.audio/ns#"}],
        "type": "Audio",
        "id": f"{origin}/federation/music/uploads/{upload}",
        "name": "Tidal Drift - Night Swims - The Lanterns",
        "summary": "#Ambient #Electronic",
        "attributedTo": channel,
        "published": "2026-03-04T21:00:00.123456+00:00",
        "mediaType": "text/html",
        "content": "<p>Recorded live at the pier.</p>",
        "to": PUBLIC,
        "url": [
            {
                "type": "Link",
                "mimeType": "audio/mpeg",
                "href": f"{origin}/api/v1/listen/7d1e0c6a-1b2c-4d3e-8f9a-0b1c2d3e4f5a/"
                f"?upload={upload}&download=false",
            },
            {"type": "Link", "mimeType": "text/html", "href": f"{origin}/library/tracks/12"},
        ],
        "tag": [
            {"type": "Hashtag", "name": "#Ambient"},
            {"type": "Hashtag", "name": "#Electronic"},
        ],
    }


def mobilizon_event(origin: str, actor: str) -> dict[str, Any]:
    """A Mobilizon event (the shape of Pleroma's mobilizon.org-event.json fixture, plus the
    banner and online-address attachments newer versions send)."""
    event = f"{origin}/events/252d5816-00a3-4a89-a66f-15bf65c33e39"
    return {
        "@context": [
            AS,
            "https://litepub.social/litepub/context.jsonld",
            {
                "sc": "http://schema.org#",
                "mz": "https://joinmobilizon.org/ns#",
                "Place": "sc:Place",
                "PostalAddress": "sc:PostalAddress",
                "location": {"@id": "sc:location", "@type": "sc:Place"},
                "ical": "http://www.w3.org/2002/12/cal/ical#",
                "joinMode": {"@id": "mz:joinMode", "@type": "mz:joinModeType"},
            },
        ],
        "type": "Event",
        "id": event,
        "url": event,
        "uuid": "252d5816-00a3-4a89-a66f-15bf65c33e39",
        "actor": actor,
        "attributedTo": actor,
        "name": "Mobilizon Launching Party",
        "mediaType": "text/html",
        "content": "<p>Mobilizon is now federated! 🎉</p><p>With an account you may "
        "<strong>participate</strong> <img src=x onerror=alert(1)>in events.</p>",
        "startTime": "2026-12-18T13:00:00Z",
        "endTime": "2026-12-18T14:00:00Z",
        "timezone": "Europe/Paris",
        "ical:status": "CONFIRMED",
        "category": "MEETING",
        "joinMode": "free",
        "isOnline": False,
        "draft": False,
        "commentsEnabled": True,
        "repliesModerationOption": "allow_all",
        "anonymousParticipationEnabled": False,
        "maximumAttendeeCapacity": 0,
        "participantCount": 3,
        "location": {
            "type": "Place",
            "id": f"{origin}/address/1368fdab-1e2c-4de6-bcff-a90c84abdee1",
            "name": "Cour du Château des Ducs de Bretagne",
            "address": {
                "type": "PostalAddress",
                "addressCountry": "France",
                "addressLocality": "Nantes",
                "addressRegion": "Pays de la Loire",
                "postalCode": "44000",
                "streetAddress": "4 Place Marc Elder",
            },
            "geo": {"type": "GeoCoordinates", "latitude": 47.216, "longitude": -1.549},
        },
        "attachment": [
            {
                "type": "Document",
                "mediaType": "image/jpeg",
                "name": "Banner",
                "url": f"{origin}/media/8a7d6c5b4a39.jpg",
                "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
            },
            {
                "type": "Link",
                "name": "Website",
                "mediaType": "text/html",
                "href": "https://joinmobilizon.org/en/",
            },
        ],
        "tag": [
            {"href": f"{origin}/tags/mobilizon", "name": "#Mobilizon", "type": "Hashtag"},
            {"href": f"{origin}/tags/party", "name": "#Party", "type": "Hashtag"},
        ],
        "published": "2026-11-17T11:33:56Z",
        "updated": "2026-11-17T12:25:01Z",
        "to": [PUBLIC],
        "cc": [],
    }
