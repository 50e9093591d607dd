"""Filters v2: the viewer's keyword and status filters, applied to statuses by context.

``warn`` keeps the status and reports the match (the Status entity's ``filtered``);
``hide`` drops it. Keywords match text folded by ``policy.text.fold`` in any script;
``whole_word`` adds word boundaries only where the keyword itself starts or ends with a
word character, as Mastodon does (so ``#tag`` or ``:)`` still match).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from activitypub.html import html_to_text
from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services.views import StatusView
from policy.text import fold
from storage import events
from storage.filters import FilterStatus, KeywordChange
from storage.ids import now_ms
from storage.models import Filter, Status
from storage.store import Store

CONTEXTS = ("home", "notifications", "public", "thread", "account")
ACTIONS = ("warn", "hide")
TITLE_LIMIT = 256
KEYWORD_LIMIT = 512


def keyword_pattern(keyword: str, whole_word: bool) -> str:
    folded = re.escape(fold(keyword))
    if not whole_word:
        return folded
    start = r"\b" if re.match(r"\w", fold(keyword)) else ""
    end = r"\b" if re.search(r"\w$", fold(keyword)) else ""
    return f"{start}{folded}{end}"


@dataclass(frozen=True, slots=True)
class FilterMatch:
    """One filter that matched a status: which keywords, or that the status itself is filtered."""

    filter: Filter
    statuses: tuple[FilterStatus, ...]
    keyword_matches: list[str] | None
    status_matches: list[str] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    filter: Filter
    statuses: tuple[FilterStatus, ...]
    patterns: list[tuple[str, re.Pattern[str]]]
    status_ids: frozenset[int]


@dataclass(frozen=True, slots=True)
class FilterSet:
    """A viewer's active filters, compiled once and applied to many statuses."""

    compiled: list[_Compiled] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.compiled)

    def match(self, context: str, text: str, status_ids: Sequence[int]) -> list[FilterMatch]:
        folded = fold(text)
        out: list[FilterMatch] = []
        for c in self.compiled:
            if context not in c.filter.contexts:
                continue
            keywords = [kw for kw, pattern in c.patterns if pattern.search(folded)]
            hit_ids = [str(i) for i in status_ids if i in c.status_ids]
            if keywords or hit_ids:
                out.append(
                    FilterMatch(
                        filter=c.filter,
                        statuses=c.statuses,
                        keyword_matches=keywords or None,
                        status_matches=hit_ids or None,
                    )
                )
        return out


async def load_filter_set(store: Store, viewer_id: int | None) -> FilterSet:
    if viewer_id is None:
        return FilterSet()
    filters = await store.filters.all(viewer_id, active_at=now_ms())
    if not filters:
        return FilterSet()
    statuses = await store.filters.statuses([f.id for f in filters])
    compiled = []
    for f in filters:
        own = tuple(s for s in statuses if s.filter_id == f.id)
        compiled.append(
            _Compiled(
                filter=f,
                statuses=own,
                patterns=[
                    (k.keyword, re.compile(keyword_pattern(k.keyword, k.whole_word)))
                    for k in f.keywords
                    if k.keyword
                ],
                status_ids=frozenset(s.status_id for s in own),
            )
        )
    return FilterSet(compiled)


def searchable_text(view: StatusView) -> str:
    """What keywords are matched against: content warning, text, media descriptions, poll."""
    shown = view.reblog or view
    s = shown.status
    parts = [s.spoiler_text, html_to_text(s.content)]
    parts.extend(m.description for m in shown.media if m.description)
    if shown.poll is not None:
        parts.extend(shown.poll.poll.options)
    return "\n".join(p for p in parts if p)


def match_view(filters: FilterSet, context: str, view: StatusView) -> list[FilterMatch]:
    if not filters:
        return []
    ids = [view.status.id] + ([view.reblog.status.id] if view.reblog is not None else [])
    return filters.match(context, searchable_text(view), ids)


def hides(matches: Sequence[FilterMatch]) -> bool:
    return any(m.filter.action == "hide" for m in matches)


async def apply_filters(
    store: Store,
    viewer_id: int | None,
    context: str,
    views: Sequence[StatusView],
    *,
    filters: FilterSet | None = None,
) -> list[tuple[StatusView, list[FilterMatch]]]:
    """Each view with its matching filters (for ``filtered``); views a ``hide`` filter matches
    are left out. The viewer's own statuses are never filtered."""
    if filters is None:
        filters = await load_filter_set(store, viewer_id)
    if not filters:
        return [(view, []) for view in views]
    out: list[tuple[StatusView, list[FilterMatch]]] = []
    for view in views:
        shown = view.reblog or view
        if shown.status.account_id == viewer_id:
            out.append((view, []))
            continue
        matches = match_view(filters, context, view)
        if hides(matches):
            continue
        out.append((view, matches))
    return out


async def filter_views(
    store: Store,
    viewer_id: int | None,
    context: str,
    views: Sequence[StatusView],
    *,
    filters: FilterSet | None = None,
) -> list[StatusView]:
    """``apply_filters`` for renderers: hidden views dropped, matches set on ``view.filtered``
    (``filters``: the viewer's, when already loaded)."""
    if viewer_id is None:
        return list(views)
    if filters is None:
        filters = await load_filter_set(store, viewer_id)
    if not filters:  # most viewers: nothing can match, every view keeps no matches
        for view in views:
            if view.filtered:
                view.filtered = []
        return list(views)
    out = []
    for view, matches in await apply_filters(store, viewer_id, context, views, filters=filters):
        view.filtered = matches
        out.append(view)
    return out


# -- managing filters (the /api/v2/filters use cases) ---------------------------------------


@dataclass(frozen=True, slots=True)
class FilterInput:
    title: str | None
    contexts: list[str] | None
    action: str | None
    expires_in: int | None  # seconds; 0 or None with ``expires_set`` clears the expiry
    expires_set: bool
    keywords: list[KeywordChange]


def _check(data: FilterInput, *, creating: bool) -> None:
    if creating and not (data.title or "").strip():
        raise ValidationFailed("Validation failed: Title can't be blank")
    if data.title is not None and len(data.title) > TITLE_LIMIT:
        raise ValidationFailed("Validation failed: Title is too long")
    if creating and not data.contexts:
        raise ValidationFailed("Validation failed: Context can't be blank")
    if data.contexts is not None:
        if not data.contexts:
            raise ValidationFailed("Validation failed: Context can't be blank")
        bad = [c for c in data.contexts if c not in CONTEXTS]
        if bad:
            raise ValidationFailed(f"Validation failed: Context {bad[0]} is not a valid context")
    if data.action is not None and data.action not in ACTIONS:
        raise ValidationFailed("Validation failed: Filter action is not included in the list")
    for k in data.keywords:
        if k.keyword is not None and len(k.keyword) > KEYWORD_LIMIT:
            raise ValidationFailed("Validation failed: Keyword is too long")
        if k.id is None and not k.destroy and not (k.keyword or "").strip():
            raise ValidationFailed("Validation failed: Keyword can't be blank")


def _expires_at(data: FilterInput) -> int | None:
    if not data.expires_in:
        return None
    if data.expires_in < 0:
        raise ValidationFailed("Validation failed: expires_in must be positive")
    return now_ms() + data.expires_in * 1000


async def changed(store: Store, account_id: int) -> None:
    """Tell the account's open streams (``filters_changed``)."""
    await events.publish(store.db, "filters_changed", account_id=account_id)


async def create_filter(store: Store, account_id: int, data: FilterInput) -> Filter:
    _check(data, creating=True)
    created = await store.filters.create(
        account_id,
        title=(data.title or "").strip(),
        contexts=list(dict.fromkeys(data.contexts or [])),
        action=data.action or "warn",
        expires_at=_expires_at(data),
        keywords=[
            (k.keyword or "", True if k.whole_word is None else k.whole_word)
            for k in data.keywords
            if not k.destroy and k.id is None
        ],
    )
    await changed(store, account_id)
    return created


async def update_filter(
    store: Store, account_id: int, filter_id: int | None, data: FilterInput
) -> Filter:
    _check(data, creating=False)
    existing = await own_filter(store, account_id, filter_id)
    kwargs: dict[str, Any] = {}
    if data.expires_set:
        kwargs["expires_at"] = _expires_at(data)
    updated = await store.filters.update(
        account_id,
        existing.id,
        title=data.title.strip() if data.title is not None else None,
        contexts=list(dict.fromkeys(data.contexts)) if data.contexts is not None else None,
        action=data.action,
        keyword_changes=data.keywords,
        **kwargs,
    )
    if updated is None:
        raise NotFoundError()
    await changed(store, account_id)
    return updated


async def own_filter(store: Store, account_id: int, filter_id: int | None) -> Filter:
    found = None if filter_id is None else await store.filters.get(account_id, filter_id)
    if found is None:
        raise NotFoundError()
    return found


async def delete_filter(store: Store, account_id: int, filter_id: int | None) -> None:
    existing = await own_filter(store, account_id, filter_id)
    await store.filters.delete(account_id, existing.id)
    await changed(store, account_id)


async def statuses_of(store: Store, f: Filter) -> list[FilterStatus]:
    return await store.filters.statuses([f.id])


async def add_status(
    store: Store, account_id: int, filter_id: int | None, status: Status
) -> FilterStatus:
    f = await own_filter(store, account_id, filter_id)
    added = await store.filters.add_status(f.id, status.id)
    await changed(store, account_id)
    return added
