"""Search v2: accounts, statuses the viewer may see (text in any script), hashtags;
``resolve`` asks the federation layer for remote accounts and status URLs."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from activitypub.federation import INSTANCE_ACTOR_USERNAME
from activitypub.html import html_to_text
from fedinode.errors import NotFoundError
from fedinode.services.accounts import lookup
from fedinode.services.context import Ctx
from fedinode.services.filters import apply_filters
from fedinode.services.timelines import drop_hidden
from fedinode.services.views import StatusView, load_status_views
from policy.text import fold, tag_key
from storage.models import Account, Status, Tag
from storage.tags import TagDay

log = logging.getLogger("fedinode.search")
T = TypeVar("T")

TYPES = ("accounts", "statuses", "hashtags")
_ACCT = re.compile(r"^@?([\w.-]+)@([\w.-]+\.[\w-]+(?::\d+)?)$", re.UNICODE)
_URL = re.compile(r"^https?://\S+$")
_USERNAME = re.compile(r"^@?([\w.-]+)$", re.UNICODE)
_CANDIDATE_ROUNDS = 5


@dataclass(slots=True)
class SearchQuery:
    q: str
    type: str | None = None
    resolve: bool = False
    following: bool = False
    account_id: int | None = None
    max_id: int | None = None
    min_id: int | None = None
    limit: int = 20
    offset: int = 0


@dataclass(slots=True)
class SearchResults:
    accounts: list[Account] = field(default_factory=list)
    statuses: list[StatusView] = field(default_factory=list)
    hashtags: list[Tag] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TagView:
    """A hashtag as search and followed tags show it: usage of the last days and, for a
    signed-in viewer, whether they follow it."""

    tag: Tag
    history: list[TagDay]
    following: bool | None


@dataclass(slots=True)
class SearchPage:
    """What /api/v2/search answers: results with filters applied and hashtags' usage."""

    accounts: list[Account] = field(default_factory=list)
    statuses: list[StatusView] = field(default_factory=list)
    hashtags: list[TagView] = field(default_factory=list)


async def search_page(ctx: Ctx, viewer: Account | None, query: SearchQuery) -> SearchPage:
    """``search`` and what showing its results needs: the viewer's filters applied (a
    "hide" filter drops a status) and each hashtag's history and following mark."""
    results = await search(ctx, viewer, query)
    viewer_id = viewer.id if viewer is not None else None
    statuses = [v for v, _ in await apply_filters(ctx.store, viewer_id, "public", results.statuses)]
    tag_ids = [t.id for t in results.hashtags]
    following: set[int] = set()
    if viewer is not None and tag_ids:
        following = await ctx.store.tags.following(viewer.id, tag_ids)
    history = await ctx.store.tags.history(tag_ids)
    tags = [
        TagView(
            t,
            history.get(t.id, []),
            (t.id in following) if viewer is not None else None,
        )
        for t in results.hashtags
    ]
    return SearchPage(results.accounts, statuses, tags)


@dataclass(frozen=True, slots=True)
class AccountQuery:
    """/api/v1/accounts/search."""

    q: str
    limit: int = 40
    offset: int = 0
    resolve: bool = False
    following: bool = False


async def search_accounts(ctx: Ctx, viewer_id: int | None, query: AccountQuery) -> list[Account]:
    """Accounts by handle or name; ``user@domain`` is looked up first (fetched with
    ``resolve``, which the caller grants to authenticated requests only); ``following``
    keeps the viewer's follows only."""
    q = query.q.strip().lstrip("@")
    if not q:
        return []
    found: list[Account] = []
    if "@" in q and query.resolve:
        try:
            found = [await lookup(ctx, q)]
        except NotFoundError:
            found = []
    if not found:
        found = await ctx.store.accounts.search(q, limit=query.limit, offset=query.offset)
    if query.following and viewer_id is not None:
        follows_of = await ctx.store.relationships.follows_of(viewer_id, [a.id for a in found])
        found = [a for a in found if a.id in follows_of]
    return found


def _wants(query: SearchQuery, kind: str) -> bool:
    return query.type is None or query.type == kind


async def search(ctx: Ctx, viewer: Account | None, query: SearchQuery) -> SearchResults:
    q = unicodedata.normalize("NFC", query.q.strip())
    out = SearchResults()
    if not q:
        return out
    viewer_id = viewer.id if viewer is not None else None
    # Resolving reaches other servers: only for signed-in users, as Mastodon does.
    resolve = query.resolve and viewer is not None
    if _URL.match(q):
        await _by_url(ctx, viewer_id, q, resolve, query, out)
        return out
    if _wants(query, "accounts"):
        out.accounts = await _accounts(ctx, viewer, q, resolve, query)
    if _wants(query, "statuses") and viewer is not None:
        out.statuses = await _statuses(ctx, viewer.id, q, query)
    if _wants(query, "hashtags"):
        out.hashtags = await ctx.store.tags.search(
            tag_key(q), limit=query.limit, offset=query.offset
        )
    return out


async def _by_url(
    ctx: Ctx, viewer_id: int | None, url: str, resolve: bool, query: SearchQuery, out: SearchResults
) -> None:
    fed = ctx.federation
    if _wants(query, "statuses"):
        status = await ctx.store.statuses.by_uri_or_url(url)
        if status is None and resolve:
            status = await _try(fed.resolve_status(url))
        if status is not None and await _may_see(ctx, status, viewer_id):
            out.statuses = await load_status_views(ctx.store, [status], viewer_id)
            return
    if _wants(query, "accounts"):
        account = await ctx.store.accounts.by_uri(url)
        if account is None:
            local = ctx.urls.base + "/@"
            if url.startswith(local):
                account = await ctx.store.accounts.by_handle(url[len(local) :].strip("/"))
        if account is None and resolve:
            account = await _try(fed.resolve_account(url))
        if account is not None and not account.suspended:
            out.accounts = [account]


async def _try(awaitable: Awaitable[T | None]) -> T | None:
    try:
        return await awaitable
    except Exception:
        log.info("search: resolving failed", exc_info=True)
        return None


async def _may_see(ctx: Ctx, status: Status, viewer_id: int | None) -> bool:
    if not await ctx.store.statuses.visible_to(status, viewer_id):
        return False
    author = await ctx.store.accounts.get(status.account_id)
    if author is None or author.suspended:
        return False
    if viewer_id is not None:
        hidden = await ctx.store.relationships.hidden_authors(viewer_id, [status.account_id])
        return not hidden
    return True


def _instance_actor(account: Account) -> bool:
    """The instance's own actor (a local account that signs fetches) is found by nobody."""
    return account.local and account.username == INSTANCE_ACTOR_USERNAME


async def _accounts(
    ctx: Ctx, viewer: Account | None, q: str, resolve: bool, query: SearchQuery
) -> list[Account]:
    handle = _ACCT.match(q)
    found: list[Account] = []
    exact: Account | None = None
    if handle is not None:
        username, domain = handle.group(1), handle.group(2).lower()
        local_domain = ctx.config.instance.domain
        exact = await ctx.store.accounts.by_handle(
            username, "" if domain == local_domain else domain
        )
        if exact is None and resolve and domain != local_domain:
            exact = await _try(ctx.federation.resolve_account(f"{username}@{domain}"))
    elif (bare := _USERNAME.match(q)) is not None:
        exact = await ctx.store.accounts.by_handle(bare.group(1))
    if exact is not None and (exact.suspended or _instance_actor(exact)):
        exact = None
    if exact is not None:
        found.append(exact)
    term = q.lstrip("@")
    if handle is not None:
        term = handle.group(1)
    more = await ctx.store.accounts.search(
        term, limit=query.limit + len(found), offset=query.offset
    )
    seen = {a.id for a in found}
    found.extend(a for a in more if a.id not in seen)
    if viewer is not None:
        # An exact handle is found even when blocked or muted, as in Mastodon: it is how
        # apps find the account to unblock or unmute (toot's unmute searches for it).
        shown = {viewer.id} | ({exact.id} if exact is not None else set())
        hidden = await ctx.store.relationships.hidden_authors(viewer.id, [a.id for a in found])
        found = [a for a in found if a.id not in hidden or a.id in shown]
        if query.following:
            followed = await ctx.store.relationships.follows_of(viewer.id, [a.id for a in found])
            found = [a for a in found if a.id in followed]
    return found[: query.limit]


_ARABIC_LETTERS = str.maketrans({"\u06cc": "\u064a", "\u06a9": "\u0643"})


def _needles(q: str) -> list[str]:
    """Forms the database may hold: as typed, folded, lower-cased, with the Arabic yeh and kaf
    of an Arabic keyboard, HTML-escaped (candidates; ``fold`` decides the match)."""
    import html

    forms = [q, fold(q), q.lower(), fold(q).translate(_ARABIC_LETTERS)]
    forms += [html.escape(f, quote=False) for f in forms]
    return list(dict.fromkeys(f.lower() for f in forms if f))


async def _statuses(ctx: Ctx, viewer_id: int, q: str, query: SearchQuery) -> list[StatusView]:
    """Statuses the viewer may see whose plain text contains every word of the query."""
    words = [fold(w) for w in q.split() if w]
    if not words:
        return []
    longest = max(q.split(), key=len)
    matches: list[Status] = []
    before: int | None = None
    skip = query.offset
    for _ in range(_CANDIDATE_ROUNDS):
        batch = await ctx.store.search.status_candidates(
            viewer_id,
            _needles(longest),
            account_id=query.account_id,
            max_id=query.max_id,
            min_id=query.min_id,
            limit=max(query.limit * 2, 40),
            before=before,
        )
        if not batch:
            break
        for s in batch:
            text = fold(" ".join((s.spoiler_text, html_to_text(s.content), s.text)))
            if all(w in text for w in words):
                if skip:
                    skip -= 1
                    continue
                matches.append(s)
        before = batch[-1].id
        if len(matches) >= query.limit:
            break
    kept = await drop_hidden(ctx, matches[: query.limit], viewer_id)
    return await load_status_views(ctx.store, kept, viewer_id)
