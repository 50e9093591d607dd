"""Media carried in `url` (PeerTube's Video, a Funkwhale Audio, a bare Image): media rules
see it, and strip_media (a domain's reject_media) removes it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from policy_samples import BOB, create, ctx, note, pipeline, verdict_of

from policy.activity import ActivityView, rewrite, url_media

PAGE = "https://remote.example/videos/watch/1"


def _mp4(height: int, **extra: Any) -> dict[str, Any]:
    return {"type": "Link", "mediaType": "video/mp4", "height": height, "size": height * 1000,
            "href": f"https://remote.example/static/1-{height}.mp4", **extra}  # fmt: skip


def video(*files: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": PAGE,
        "type": "Video",
        "name": "A video",
        "mediaType": "text/markdown",
        "content": "hello",
        "attributedTo": [{"type": "Person", "id": BOB}],
        "url": [{"type": "Link", "mediaType": "text/html", "href": PAGE}, *files],
        **extra,
    }


SOUND = [{"type": "PropertyValue", "name": "ffprobe_codec_type", "value": v}
         for v in ("video", "audio")]  # fmt: skip
SILENT = [{"type": "PropertyValue", "name": "ffprobe_codec_type", "value": "video"}]
HLS = {"type": "Link", "mediaType": "application/x-mpegURL", "href": "https://remote.example/m.m3u8",
       "tag": [{"type": "Infohash", "name": "abc"}, _mp4(480, href="https://remote.example/f.mp4")]}  # fmt: skip


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (video(_mp4(1080), _mp4(720), _mp4(360)), "https://remote.example/static/1-720.mp4"),
        (video(_mp4(2160), _mp4(1080)), "https://remote.example/static/1-1080.mp4"),
        (video({"type": "Link", "mediaType": "video/webm", "href": "https://remote.example/v.webm"}),
         "https://remote.example/v.webm"),
        (video(_mp4(720, attachment=SILENT), _mp4(480, attachment=SOUND)),
         "https://remote.example/static/1-480.mp4"),
        (video(HLS), "https://remote.example/f.mp4"),  # only the HLS playlist's MP4s
        (video(_mp4(720, href="javascript:alert(1)")), None),
        (video({"type": "Link", "mediaType": "application/x-bittorrent",
                "href": "https://remote.example/1.torrent"}), None),
        (video({"type": "Link", "mediaType": "audio/mp4", "href": "https://remote.example/a.mp4"}),
         None),
        ({"type": "Audio", "url": [{"type": "Link", "mimeType": "audio/mpeg",
                                    "href": "https://remote.example/listen/1"}]},
         "https://remote.example/listen/1"),  # Funkwhale says mimeType
        ({"type": "Image", "mediaType": "image/png", "url": "https://remote.example/p.png"},
         "https://remote.example/p.png"),
        ({"type": "Image", "url": "https://remote.example/photos/1"}, None),  # a page, not a file
        ({"type": "Image", "url": [
            {"type": "Link", "mediaType": "image/jpeg", "href": "https://remote.example/s.jpg",
             "width": 320, "height": 200},
            {"type": "Link", "mediaType": "image/jpeg", "href": "https://remote.example/l.jpg",
             "width": 2048, "height": 1280}]}, "https://remote.example/l.jpg"),
        (note(url=[{"type": "Link", "mediaType": "video/mp4", "href": "https://remote.example/n.mp4"}]),
         None),  # only objects that are themselves a medium
    ],
)  # fmt: skip
def test_url_media_picks_one_rendition(obj: dict[str, Any], expected: str | None) -> None:
    found = url_media(obj)
    assert (found["url"] if found else None) == expected


def test_media_rules_see_the_video_once() -> None:
    activity = create(video(_mp4(1080), _mp4(720), _mp4(480)))
    [media] = ActivityView(activity).media
    assert media["mediaType"] == "video/mp4" and media["size"] == 720_000
    assert (
        verdict_of(pipeline(rules=[{"kind": "media", "max_count": 1}]), activity, ctx()) == "accept"
    )
    only_images = pipeline(rules=[{"kind": "media", "allowed_types": ["image/*"]}])
    assert verdict_of(only_images, activity, ctx()) == "reject"
    too_big = pipeline(rules=[{"kind": "media", "max_size": 500_000}])
    assert verdict_of(too_big, activity, ctx()) == "reject"


def test_strip_media_keeps_the_page_and_drops_every_file() -> None:
    tracker = {"type": "Link", "rel": ["tracker", "http"], "href": "https://remote.example/t"}
    activity = create(video(_mp4(720), HLS, tracker))
    before = copy.deepcopy(activity)
    new = rewrite(activity, "strip_media")
    assert new is not None and activity == before
    assert new["object"]["url"] == [
        {"type": "Link", "mediaType": "text/html", "href": PAGE},
        tracker,
    ]
    assert ActivityView(new).media == ()
    assert rewrite(new, "strip_media") is None


def test_strip_media_of_an_image_whose_url_is_the_file() -> None:
    image = {"id": "https://remote.example/p/1", "type": "Image", "mediaType": "image/png",
             "url": "https://remote.example/p.png", "attributedTo": BOB}  # fmt: skip
    new = rewrite(create(image), "strip_media")
    assert new is not None and "url" not in new["object"]


def test_reject_media_domain_flag_strips_a_video() -> None:
    blocks = [{"domain": "remote.example", "severity": "noop", "reject_media": True}]
    outcome = pipeline(blocks=blocks).run(create(video(_mp4(720))), ctx())
    assert outcome.accepted and outcome.activity is not None
    assert url_media(outcome.activity["object"]) is None
    assert outcome.activity["object"]["url"] == [
        {"type": "Link", "mediaType": "text/html", "href": PAGE}
    ]
    # A video without files in `url` is left alone.
    assert verdict_of(pipeline(blocks=blocks), create(video()), ctx()) == "accept"
