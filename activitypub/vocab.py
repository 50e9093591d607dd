"""ActivityStreams 2.0 vocabulary: type names, addressing constants, media types."""

from __future__ import annotations

from typing import Any, Final

# --- Activity types -------------------------------------------------------
CREATE: Final = "Create"
UPDATE: Final = "Update"
DELETE: Final = "Delete"
FOLLOW: Final = "Follow"
ACCEPT: Final = "Accept"
REJECT: Final = "Reject"
UNDO: Final = "Undo"
ANNOUNCE: Final = "Announce"
LIKE: Final = "Like"
BLOCK: Final = "Block"
FLAG: Final = "Flag"
MOVE: Final = "Move"
ADD: Final = "Add"
REMOVE: Final = "Remove"
EMOJI_REACT: Final = "EmojiReact"

# --- Object types ---------------------------------------------------------
NOTE: Final = "Note"
QUESTION: Final = "Question"
ARTICLE: Final = "Article"
PAGE: Final = "Page"
TOMBSTONE: Final = "Tombstone"
IMAGE: Final = "Image"
VIDEO: Final = "Video"
AUDIO: Final = "Audio"
DOCUMENT: Final = "Document"
EVENT: Final = "Event"
LINK: Final = "Link"

# --- Actor types ----------------------------------------------------------
PERSON: Final = "Person"
SERVICE: Final = "Service"
APPLICATION: Final = "Application"
GROUP: Final = "Group"
ORGANIZATION: Final = "Organization"

# --- Tag / attachment types -----------------------------------------------
MENTION: Final = "Mention"
HASHTAG: Final = "Hashtag"
EMOJI: Final = "Emoji"
PROPERTY_VALUE: Final = "PropertyValue"

# --- Collections ----------------------------------------------------------
COLLECTION: Final = "Collection"
COLLECTION_PAGE: Final = "CollectionPage"
ORDERED_COLLECTION: Final = "OrderedCollection"
ORDERED_COLLECTION_PAGE: Final = "OrderedCollectionPage"

ACTOR_TYPES: Final = frozenset({PERSON, SERVICE, APPLICATION, GROUP, ORGANIZATION})
# Shown as statuses the way Mastodon shows them: the title, the summary and a link to the
# original (PeerTube videos, Funkwhale tracks, Mobilizon events, photos, articles).
CONVERTED_TYPES: Final = frozenset({ARTICLE, PAGE, IMAGE, VIDEO, AUDIO, EVENT})
STATUS_TYPES: Final = frozenset({NOTE, QUESTION}) | CONVERTED_TYPES
ATTACHMENT_TYPES: Final = frozenset({IMAGE, VIDEO, AUDIO, DOCUMENT})
COLLECTION_TYPES: Final = frozenset(
    {COLLECTION, COLLECTION_PAGE, ORDERED_COLLECTION, ORDERED_COLLECTION_PAGE}
)
# Retractions pass every policy rule except domain suspension.
RETRACTION_TYPES: Final = frozenset({DELETE, UNDO})

# --- Addressing -----------------------------------------------------------
PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"
PUBLIC_ALIASES: Final = frozenset({PUBLIC, "Public", "as:Public"})

# --- Contexts -------------------------------------------------------------
AS2_CONTEXT: Final = "https://www.w3.org/ns/activitystreams"
SECURITY_V1_CONTEXT: Final = "https://w3id.org/security/v1"
TOOT_NS: Final = "http://joinmastodon.org/ns#"
SCHEMA_NS: Final = "http://schema.org#"

MASTODON_EXTENSIONS: Final[dict[str, Any]] = {
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "sensitive": "as:sensitive",
    "Hashtag": "as:Hashtag",
    "movedTo": {"@id": "as:movedTo", "@type": "@id"},
    "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
    "toot": TOOT_NS,
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "Emoji": "toot:Emoji",
    "focus": {"@id": "toot:focus", "@container": "@list"},
    "focalPoint": {"@id": "toot:focalPoint", "@container": "@list"},
    "blurhash": "toot:blurhash",
    "votersCount": "toot:votersCount",
    "ostatus": "http://ostatus.org#",
    "conversation": "ostatus:conversation",
    "atomUri": "ostatus:atomUri",
    "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
    "schema": SCHEMA_NS,
    "PropertyValue": "schema:PropertyValue",
    "value": "schema:value",
}

# The @context we emit on every document.
DEFAULT_CONTEXT: Final[list[Any]] = [AS2_CONTEXT, SECURITY_V1_CONTEXT, MASTODON_EXTENSIONS]

# --- Media types ----------------------------------------------------------
ACTIVITY_JSON: Final = "application/activity+json"
LD_JSON: Final = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD_JSON: Final = "application/jrd+json"
# What we send when fetching a remote object.
ACCEPT_HEADER: Final = f"{ACTIVITY_JSON}, {LD_JSON}"

_AP_MEDIA_TYPES: Final = frozenset({ACTIVITY_JSON, "application/ld+json"})


def is_activity_media_type(content_type: str | None) -> bool:
    """True for application/activity+json or application/ld+json (any profile)."""
    if not content_type:
        return False
    base = content_type.split(";", 1)[0].strip().lower()
    return base in _AP_MEDIA_TYPES


def accepts_activity_json(accept_header: str | None) -> bool:
    """Content negotiation: does this Accept header ask for ActivityStreams JSON?

    True when activity+json or ld+json is listed with a non-zero quality and no
    ``text/html`` is preferred over it; browsers therefore get HTML.
    """
    if not accept_header:
        return False
    best_ap = 0.0
    best_html = 0.0
    for index, part in enumerate(accept_header.split(",")):
        fields = part.split(";")
        media = fields[0].strip().lower()
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        # Earlier entries win ties, as clients list their preference first.
        score = q - index * 1e-6
        if media in _AP_MEDIA_TYPES:
            best_ap = max(best_ap, score)
        elif media in ("text/html", "application/xhtml+xml"):
            best_html = max(best_html, score)
    return best_ap > 0 and best_ap >= best_html
