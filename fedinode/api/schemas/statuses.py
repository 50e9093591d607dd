"""Status for a viewer, its Poll and tags, Context, StatusSource, the edit history, and a
deleted status for redrafting."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING

import orjson

from fedinode.api.schemas.accounts import account_to_api, emojis_to_api
from fedinode.api.schemas.filters import filter_result_to_api
from fedinode.api.schemas.media import media_to_api
from fedinode.api.schemas.oauth import status_application_to_api
from fedinode.api.schemas.tags import tag_path
from fedinode.api.schemas.times import at, iso
from fedinode.config import Config
from fedinode.services.views import PollView, StatusView
from storage.ids import now_ms
from storage.models import Account, MediaAttachment, Status, StatusEdit, Tag
from storage.preview_cards import PreviewCard
from storage.timelines import TimelineEntry

if TYPE_CHECKING:
    from fedinode.api import entities as e

if TYPE_CHECKING:
    # Types only: services import this module (streaming), so no import cycle at run time.
    from fedinode.services.filters import FilterMatch
    from fedinode.services.render_cache import RenderCache
    from fedinode.services.statuses import StatusHistory


def tag_to_api(tag: Tag, base_url: str) -> e.StatusTag:
    """Status::Tag: name and URL (the full Tag is ``tag_entity_to_api``)."""
    return {"name": tag.display_name or tag.name, "url": f"{base_url}/tags/{tag_path(tag)}"}


def card_to_api(card: PreviewCard, config: Config) -> e.PreviewCard:
    """PreviewCard: the image is our cached copy; the remote one only when remote media is
    not cached here (a refused or pending image shows none)."""
    if card.image_path:
        image: str | None = f"{config.base_url}/media/{card.image_path}"
    elif card.image_remote_url and not config.media.cache_remote:
        image = card.image_remote_url
    else:
        image = None
    authors: list[e.PreviewCardAuthor] = (
        [{"name": card.author_name, "url": card.author_url, "account": None}]
        if card.author_name or card.author_url
        else []
    )
    return {
        "url": card.url,
        "title": card.title,
        "description": card.description,
        "type": card.type,
        "author_name": card.author_name,
        "author_url": card.author_url,
        "provider_name": card.provider_name,
        "provider_url": card.provider_url,
        "html": card.html,
        "width": card.image_width if image and card.type == "link" else card.width,
        "height": card.image_height if image and card.type == "link" else card.height,
        "image": image,
        "image_description": "",
        "embed_url": card.embed_url,
        "blurhash": card.blurhash if image else None,
        "published_at": iso(card.published_at),
        "language": card.language or None,
        "authors": authors,
    }


def poll_to_api(
    pv: PollView, emojis: Sequence[Mapping[str, object]], base_url: str, *, show_totals: bool
) -> e.Poll:
    poll = pv.poll
    expired = poll.expires_at is not None and poll.expires_at <= now_ms()
    hide = poll.hide_totals and not expired and not show_totals
    votes = list(poll.votes) + [0] * (len(poll.options) - len(poll.votes))
    return {
        "id": str(poll.id),
        "expires_at": iso(poll.expires_at),
        "expired": expired,
        "multiple": poll.multiple,
        "votes_count": sum(votes),
        "voters_count": poll.voters_count if poll.multiple else sum(votes),
        "options": [
            {"title": title, "votes_count": None if hide else votes[i]}
            for i, title in enumerate(poll.options)
        ],
        "emojis": emojis_to_api(emojis, base_url),
        "voted": pv.voted,
        "own_votes": pv.own_votes,
    }


def status_to_api(
    view: StatusView,
    config: Config,
    viewer_id: int | None,
    *,
    filtered: Sequence[FilterMatch] | None = None,
) -> e.Status:
    """Status entity for ``viewer_id``; ``filtered`` (the filters that matched in the
    context it is shown in) replaces the view's own when given."""
    s = view.status
    memo = view.memo
    out: e.Status
    if memo is None:
        out = _status_shared_to_api(view, config)
    else:
        # One version of a status renders the same for everyone but for the keys set below.
        shared: e.Status | None = memo.rendered
        if shared is None:
            shared = memo.rendered = _status_shared_to_api(view, config)
        out = shared.copy()
    if view.poll is not None:
        out["poll"] = poll_to_api(
            view.poll, s.emojis, config.base_url, show_totals=viewer_id == s.account_id
        )
    matches = view.filtered if filtered is None else filtered
    out["filtered"] = [filter_result_to_api(m) for m in matches] if matches else []
    if viewer_id is not None:
        out["favourited"] = view.favourited
        out["reblogged"] = view.reblogged
        out["muted"] = view.muted
        out["bookmarked"] = view.bookmarked
        if s.account_id == viewer_id:
            out["pinned"] = view.pinned
    if view.reblog is not None:
        inner = status_to_api(view.reblog, config, viewer_id)
        out["reblog"] = inner
        if viewer_id is not None:
            out["favourited"] = inner.get("favourited", False)
            out["reblogged"] = inner.get("reblogged", False)
            out["bookmarked"] = inner.get("bookmarked", False)
            out["muted"] = inner.get("muted", False)
    return out


def _status_shared_to_api(view: StatusView, config: Config) -> e.Status:
    """The Status entity without the viewer's marks; ``poll`` and ``filtered`` are set after."""
    s = view.status
    base_url = config.base_url
    account = account_to_api(view.account, base_url)
    return {
        "id": str(s.id),
        "uri": s.uri,
        "url": s.url or s.uri,
        "created_at": at(s.created_at),
        "account": account,
        "content": s.content,
        "visibility": s.visibility,
        "sensitive": s.sensitive,
        "spoiler_text": s.spoiler_text,
        "media_attachments": [media_to_api(config, m) for m in view.media],
        "application": status_application_to_api(view.application) if s.local else None,
        "mentions": [
            {
                "id": str(m.id),
                "username": m.username,
                "url": m.url or m.uri,
                "acct": m.acct,
            }
            for m in view.mentions
        ],
        "tags": [tag_to_api(t, base_url) for t in view.tags],
        "emojis": emojis_to_api(s.emojis, base_url),
        "reblogs_count": s.reblogs_count,
        "favourites_count": s.favourites_count,
        "replies_count": s.replies_count,
        "in_reply_to_id": str(s.in_reply_to_id) if s.in_reply_to_id is not None else None,
        "in_reply_to_account_id": (
            str(s.in_reply_to_account_id) if s.in_reply_to_account_id is not None else None
        ),
        "reblog": None,
        "poll": None,
        "card": card_to_api(view.card, config) if view.card is not None else None,
        "language": s.language,
        "edited_at": iso(s.edited_at),
        "filtered": [],
    }


def statuses_to_api(
    views: Sequence[StatusView], config: Config, viewer_id: int | None
) -> list[e.Status]:
    return [status_to_api(v, config, viewer_id) for v in views]


# Marks combinations encoded per status version: a viewer's own, and others' (most share).
_ENCODED_PER_VERSION = 4


def _marks_key(
    status: Status,
    viewer_id: int | None,
    favourited: bool,
    reblogged: bool,
    muted: bool,
    bookmarked: bool,
    pinned: bool,
) -> tuple[bool | None, ...]:
    """All that ``status_to_api`` adds for a viewer to the shared rendering of a status of
    its own (not a reblog) with no poll and no filter matched: what its encodings are kept by.
    A signed-out viewer is shown no marks at all: the empty key."""
    if viewer_id is None:
        return ()
    return (
        favourited,
        reblogged,
        muted,
        bookmarked,
        pinned if status.account_id == viewer_id else None,
    )


def status_json(view: StatusView, config: Config, viewer_id: int | None) -> bytes:
    """``status_to_api`` encoded; a status version's encoding for the viewer's marks is kept
    with it for the next viewer with the same marks."""
    memo = view.memo
    if (
        memo is None
        or view.reblog is not None
        or view.poll is not None
        or view.filtered
    ):
        return orjson.dumps(status_to_api(view, config, viewer_id))
    key = _marks_key(
        view.status,
        viewer_id,
        view.favourited,
        view.reblogged,
        view.muted,
        view.bookmarked,
        view.pinned,
    )
    encoded = memo.encoded.get(key)
    if encoded is None:
        encoded = orjson.dumps(status_to_api(view, config, viewer_id))
        if len(memo.encoded) < _ENCODED_PER_VERSION:
            memo.encoded[key] = encoded
    return encoded


def statuses_to_json(views: Sequence[StatusView], config: Config, viewer_id: int | None) -> bytes:
    """``statuses_to_api`` encoded as a JSON array (the same bytes ``orjson.dumps`` gives);
    a status version's encoding is reused by the next viewer with the same marks."""
    return json_array([status_json(v, config, viewer_id) for v in views])


def kept_rows(
    entries: Sequence[TimelineEntry], cache: RenderCache, viewer_id: int | None
) -> tuple[list[bytes | None], int]:
    """For each row, its JSON as ``status_json`` encodes the view ``entry_views`` builds of
    it, for a viewer no filter applies to, with no view built: as kept by the row itself
    (its status version and marks: any viewer's equal row shows the same), else from the
    encodings kept with its status version in the cache; None for a row to render (a
    reblog, a poll, a version or marks not encoded yet). Rows not ``shown`` are left out.
    With how many rows are None."""
    rows = cache.rows
    out: list[bytes | None] = []
    missing = 0
    for e in entries:
        if not e.shown:
            continue
        # The author's own row shows ``pinned``; nobody else's does. A signed-out viewer's
        # row shows no marks: kept apart from a viewer's with none set.
        key: Hashable = (e, None) if viewer_id is None else e if e.account_id != viewer_id else (e,)
        encoded = rows.get(key)
        if encoded is None:
            encoded = _kept_encoding(e, cache, viewer_id)
            if encoded is None:
                missing += 1
            else:
                cache.keep_row(key, encoded)
        out.append(encoded)
    return out, missing


def json_array(parts: Sequence[bytes]) -> bytes:
    """Encoded JSON values as one JSON array: one copy of them ("[" + ",".join(…) + "]"
    copied a page three times)."""
    if not parts:
        return b"[]"
    out = [b"["]
    for part in parts:
        out += (part, b",")
    out[-1] = b"]"
    return b"".join(out)


def _kept_encoding(e: TimelineEntry, cache: RenderCache, viewer_id: int | None) -> bytes | None:
    if e.reblog_of_id is not None:
        return None
    shared = cache.get(e.id, e.version)
    if shared is None or shared.poll is not None or shared.memo is None:
        return None
    return shared.memo.encoded.get(
        _marks_key(
            shared.status,
            viewer_id,
            e.favourited,
            e.reblogged,
            e.muted,
            e.bookmarked,
            e.pinned,
        )
    )


def context_to_api(
    ancestors: Sequence[StatusView],
    descendants: Sequence[StatusView],
    config: Config,
    viewer_id: int | None,
) -> e.Context:
    return {
        "ancestors": statuses_to_api(ancestors, config, viewer_id),
        "descendants": statuses_to_api(descendants, config, viewer_id),
    }


def status_source_to_api(status: Status) -> e.StatusSource:
    return {"id": str(status.id), "text": status.text, "spoiler_text": status.spoiler_text}


def status_edit_to_api(
    edit: StatusEdit, account: Account, media: Mapping[int, MediaAttachment], config: Config
) -> e.StatusEdit:
    stored: list[object] = list(edit.media)
    options = edit.poll.get("options") if edit.poll else None
    return {
        "content": edit.content,
        "spoiler_text": edit.spoiler_text,
        "sensitive": edit.sensitive,
        "created_at": at(edit.created_at),
        "account": account_to_api(account, config.base_url),
        "poll": (
            {"options": [{"title": str(t)} for t in options]} if isinstance(options, list) else None
        ),
        "media_attachments": [
            media_to_api(config, media[m]) for m in stored if isinstance(m, int) and m in media
        ],
        "emojis": [],
    }


def status_history_to_api(history: StatusHistory, config: Config) -> list[e.StatusEdit]:
    """The versions of a status, oldest first; a status never edited has one, itself."""
    if history.edits:
        return [
            status_edit_to_api(edit, history.account, history.media, config)
            for edit in history.edits
        ]
    s = history.status
    return [
        {
            "content": s.content,
            "spoiler_text": s.spoiler_text,
            "sensitive": s.sensitive,
            "created_at": at(s.created_at),
            "account": account_to_api(history.account, config.base_url),
            "poll": None,
            "media_attachments": [media_to_api(config, m) for m in history.current_media],
            "emojis": emojis_to_api(s.emojis, config.base_url),
        }
    ]


def deleted_status_to_api(view: StatusView, config: Config, viewer_id: int | None) -> e.Status:
    """The status as it was, with its source ``text`` so apps can redraft it."""
    out = status_to_api(view, config, viewer_id)
    out["text"] = view.status.text
    poll = out["poll"]
    if poll is not None:
        poll["options"] = [{"title": o["title"], "votes_count": None} for o in poll["options"]]
    return out
