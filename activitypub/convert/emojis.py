"""Custom emojis as ``Emoji`` tags, both ways, and the image URL of an icon."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from activitypub import vocab
from activitypub.convert.origins import authority_of
from activitypub.fields import as_list, obj_type, url_of


def emoji_tags_to_as(emojis: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for emoji in emojis:
        shortcode = str(emoji.get("shortcode", "")).strip(":")
        url = emoji.get("url")
        if not shortcode or not isinstance(url, str):
            continue
        out.append(
            {
                "id": url,
                "type": vocab.EMOJI,
                "name": f":{shortcode}:",
                "icon": {"type": vocab.IMAGE, "url": url},
            }
        )
    return out


def image_url_from_as(value: object) -> str:
    """The first http(s) image URL ("" if none): apps put it in src/href attributes."""
    for item in as_list(value):
        found = item if isinstance(item, str) else url_of(item) if isinstance(item, dict) else None
        if found and authority_of(found):
            return found
    return ""


# Mastodon's shortcode characters (plus Misskey's - and +): nothing that could break out of
# an attribute or into markup in a client that pastes the shortcode into HTML.
_SHORTCODE_RE = re.compile(r"[A-Za-z0-9_+-]{1,64}")


def emojis_from_as(tags: object) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for tag in as_list(tags):
        if obj_type(tag) != vocab.EMOJI:
            continue
        name = tag.get("name")
        icon = image_url_from_as(tag.get("icon"))
        if isinstance(name, str) and _SHORTCODE_RE.fullmatch(name.strip(":")) and icon:
            shortcode = name.strip(":")
            out.append({"shortcode": shortcode, "url": icon, "static_url": icon,
                        "visible_in_picker": False})  # fmt: skip
    return out
