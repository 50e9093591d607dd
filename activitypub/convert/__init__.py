"""Converters between storage models and ActivityStreams documents, named by direction.

``*_to_as`` build the documents we publish; ``*_from_as`` read what peers send, liberally
(string, object or list for every reference) and never trust remote HTML: it is
sanitised here, on the way in. Nothing in this package does I/O.

One module per kind of document (``actors``, ``notes``, ``parsed_notes``, ``activities``,
``collections``, …); this package names the public converters, so callers import them
from ``activitypub.convert``.
"""

from activitypub.convert.activities import activity
from activitypub.convert.actors import actor_from_as, actor_to_as
from activitypub.convert.collections import ordered_collection, ordered_page
from activitypub.convert.emojis import emoji_tags_to_as, emojis_from_as, image_url_from_as
from activitypub.convert.notes import addressing, note_to_as
from activitypub.convert.origins import authority_of, same_origin
from activitypub.convert.parsed_notes import (
    ParsedMedia,
    ParsedNote,
    ParsedPoll,
    note_from_as,
    note_origin,
    visibility_of,
)
from activitypub.convert.times import ms_from_iso

__all__ = [
    "ParsedMedia",
    "ParsedNote",
    "ParsedPoll",
    "activity",
    "actor_from_as",
    "actor_to_as",
    "addressing",
    "authority_of",
    "emoji_tags_to_as",
    "emojis_from_as",
    "image_url_from_as",
    "ms_from_iso",
    "note_from_as",
    "note_origin",
    "note_to_as",
    "ordered_collection",
    "ordered_page",
    "same_origin",
    "visibility_of",
]
