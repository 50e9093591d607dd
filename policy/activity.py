"""Tolerant reading of ActivityStreams dicts (string, object or list) and the rewrites."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from functools import cached_property
from typing import Any

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_FORMS = frozenset({PUBLIC, "as:Public", "Public"})
RETRACTIONS = frozenset({"Delete", "Undo", "Block"})
CONTENT_CARRIERS = frozenset({"Create", "Update", "Announce"})
ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
MEDIA_TYPES = frozenset({"Document", "Image", "Video", "Audio"})
TEXT_KEYS = ("content", "summary", "name")
MAP_KEYS = ("contentMap", "summaryMap", "nameMap")

REWRITE_ACTIONS = frozenset(
    {"unlist", "sensitive", "strip_media", "followers_only", "avatar_removal", "banner_removal"}
)
ACTIONS = frozenset({"reject"}) | REWRITE_ACTIONS

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def as_list(value: Any) -> list[Any]:
    """A property as a list: absent → [], scalar or object → [it]."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def ref_id(value: Any) -> str | None:
    """The id of a reference given as a string or as an object with `id`/`href`."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        found = value.get("id", value.get("href"))
        return found if isinstance(found, str) else None
    return None


def types_of(value: Any) -> tuple[str, ...]:
    """The `type` of an object as a tuple (AS2 allows a list)."""
    if not isinstance(value, Mapping):
        return ()
    return tuple(t for t in as_list(value.get("type")) if isinstance(t, str))


def host_of(url: str | None) -> str:
    """The lowercased host[:port] of an absolute URL, or "" when it has none."""
    if not url:
        return ""
    scheme_end = url.find("://")
    if scheme_end < 0:
        return ""
    rest = url[scheme_end + 3 :]
    for sep in "/?#":
        cut = rest.find(sep)
        if cut >= 0:
            rest = rest[:cut]
    at = rest.rfind("@")
    if at >= 0:
        rest = rest[at + 1 :]
    return rest.lower()


def fold(text: str) -> str:
    """NFC-normalise and casefold: how every keyword and hashtag is compared."""
    return unicodedata.normalize("NFC", text).casefold()


def plain_text(fragment: str) -> str:
    """HTML fragment → text with tags dropped, entities decoded, whitespace collapsed."""
    if "<" in fragment:
        fragment = _TAG.sub(" ", fragment)
    if "&" in fragment:
        fragment = html.unescape(fragment)
    return _SPACE.sub(" ", fragment).strip()


def is_public(value: Any) -> bool:
    return isinstance(value, str) and value in PUBLIC_FORMS


def is_followers_collection(url: str) -> bool:
    return url.rstrip("/").endswith("/followers")


class ActivityView:
    """Read-only view of one activity; derived facts are computed once and shared by rules."""

    def __init__(self, activity: Mapping[str, Any]) -> None:
        self.activity = activity
        self.types = types_of(activity)
        raw_object = activity.get("object")
        self.object: Mapping[str, Any] | None = (
            raw_object if isinstance(raw_object, Mapping) else None
        )
        self.object_types = types_of(self.object)
        self.cache: dict[str, Any] = {}  # per-activity memo for rules (e.g. the RDF graph)

    @property
    def type(self) -> str:
        return self.types[0] if self.types else ""

    @property
    def id(self) -> str | None:
        found = self.activity.get("id")
        return found if isinstance(found, str) else None

    @cached_property
    def is_retraction(self) -> bool:
        return any(t in RETRACTIONS for t in self.types)

    @cached_property
    def content_object(self) -> Mapping[str, Any] | None:
        """The object whose content rules look at: of Create/Update/Announce, if embedded."""
        if any(t in CONTENT_CARRIERS for t in self.types):
            return self.object
        return None

    @cached_property
    def raw_texts(self) -> tuple[str, ...]:
        obj = self.content_object
        if obj is None:
            return ()
        texts: list[str] = []
        for key in TEXT_KEYS:
            value = obj.get(key)
            if isinstance(value, str) and value:
                texts.append(value)
        for key in MAP_KEYS:
            value = obj.get(key)
            if isinstance(value, Mapping):
                texts.extend(v for v in value.values() if isinstance(v, str) and v)
        return tuple(texts)

    @cached_property
    def text(self) -> str:
        """Raw and tag-stripped text of the content object, NFC-normalised (not folded)."""
        parts: list[str] = []
        for raw in self.raw_texts:
            parts.append(raw)
            stripped = plain_text(raw)
            if stripped != raw:
                parts.append(stripped)
        return unicodedata.normalize("NFC", "\n".join(parts))

    @cached_property
    def folded_text(self) -> str:
        return self.text.casefold()

    @cached_property
    def tags(self) -> tuple[Mapping[str, Any], ...]:
        obj = self.content_object
        if obj is None:
            return ()
        return tuple(t for t in as_list(obj.get("tag")) if isinstance(t, Mapping))

    @cached_property
    def hashtags(self) -> frozenset[str]:
        """Folded hashtag names without the '#'."""
        names: set[str] = set()
        for tag in self.tags:
            name = tag.get("name")
            if "Hashtag" in types_of(tag) and isinstance(name, str):
                names.add(fold(name.lstrip("#")))
        return frozenset(names)

    @cached_property
    def tag_hrefs(self) -> frozenset[str]:
        """hrefs of Mention and Hashtag tags (links that are not "links" for spam rules)."""
        return frozenset(href for tag in self.tags if isinstance(href := tag.get("href"), str))

    @cached_property
    def addressed_actors(self) -> frozenset[str]:
        """Mentioned actors plus to/cc recipients that are neither Public nor followers."""
        actors: set[str] = set()
        for tag in self.tags:
            href = tag.get("href")
            if "Mention" in types_of(tag) and isinstance(href, str):
                actors.add(href)
        for holder in (self.activity, self.content_object):
            if holder is None:
                continue
            for key in ("to", "cc"):
                for entry in as_list(holder.get(key)):
                    target = ref_id(entry)
                    if target and not is_public(target) and not is_followers_collection(target):
                        actors.add(target)
        return frozenset(actors)

    @cached_property
    def media(self) -> tuple[Mapping[str, Any], ...]:
        """Attachments of the content object that are media (not PropertyValue fields)."""
        obj = self.content_object
        if obj is None:
            return ()
        found: list[Mapping[str, Any]] = []
        for item in as_list(obj.get("attachment")):
            if not isinstance(item, Mapping):
                continue
            kinds = types_of(item)
            if any(k in MEDIA_TYPES for k in kinds) or (not kinds and "mediaType" in item):
                found.append(item)
        return tuple(found)


# Rewrites: each returns a NEW activity (shallow copies down to what changes), or None when
# the action would change nothing.


def _public_removed(holder: dict[str, Any], key: str) -> list[Any] | None:
    entries = as_list(holder.get(key))
    if not any(is_public(e) for e in entries):
        return None
    return [e for e in entries if not is_public(e)]


def _demote_public(holder: dict[str, Any], to_followers: bool) -> bool:
    changed = False
    kept_to = _public_removed(holder, "to")
    if kept_to is not None:
        holder["to"] = kept_to
        changed = True
        if not to_followers:
            cc = [e for e in as_list(holder.get("cc")) if not is_public(e)]
            holder["cc"] = [PUBLIC, *cc]
    if to_followers:
        kept_cc = _public_removed(holder, "cc")
        if kept_cc is not None:
            holder["cc"] = kept_cc
            changed = True
    return changed


def _copy_with_object(activity: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    new = dict(activity)
    obj = new.get("object")
    if isinstance(obj, Mapping):
        new_obj = dict(obj)
        new["object"] = new_obj
        return new, new_obj
    return new, None


def rewrite(activity: Mapping[str, Any], action: str) -> dict[str, Any] | None:
    """Apply a rewrite action; None when it changes nothing (or the action is unknown)."""
    new, obj = _copy_with_object(activity)
    changed = False
    if action in ("unlist", "followers_only"):
        to_followers = action == "followers_only"
        changed = _demote_public(new, to_followers)
        if obj is not None:
            changed = _demote_public(obj, to_followers) or changed
    elif action == "sensitive":
        if obj is not None and obj.get("sensitive") is not True:
            obj["sensitive"] = True
            changed = True
    elif action == "strip_media":
        if obj is not None and obj.get("attachment"):
            # An actor's `attachment` holds profile fields, not media.
            if not any(t in ACTOR_TYPES for t in types_of(obj)):
                del obj["attachment"]
                changed = True
    elif action in ("avatar_removal", "banner_removal"):
        key = "icon" if action == "avatar_removal" else "image"
        for actor in (new, obj):
            if (
                actor is not None
                and key in actor
                and any(t in ACTOR_TYPES for t in types_of(actor))
            ):
                del actor[key]
                changed = True
    return new if changed else None
