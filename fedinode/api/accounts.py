"""/api/v1/accounts/* and the viewer's own collections (follow requests, blocks, mutes,
domain blocks, bookmarks, favourites, featured tags, endorsements)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import authenticated, principal, require_scopes, viewer_account, viewer_id
from fedinode.api.params import (
    ctx_of,
    json_response,
    page_from,
    paged_response,
    path_id,
    read_params,
)
from fedinode.errors import NotFoundError, Unauthorized, ValidationFailed
from fedinode.services import accounts as svc
from fedinode.services import domain_blocks, follows, search, timelines
from fedinode.services.context import Ctx
from policy.text import tag_key
from storage.models import Account

if TYPE_CHECKING:
    from fedinode.api import entities


def _account_id(request: web.Request) -> int:
    return path_id(request)


def _api(ctx: Ctx, account: Account) -> entities.Account:
    return schemas.account_to_api(account, ctx.config.base_url)


async def _credential(ctx: Ctx, request: web.Request) -> web.Response:
    """The CredentialAccount, read again: the token's lookup may come from a cache whose
    account counters are seconds old (``storage.token_cache``)."""
    who = principal(request)
    if who.user is None or who.account is None:
        raise Unauthorized("This method requires an authenticated user")
    found = await ctx.store.users.credential(who.user.id, requests_up_to=40)
    if found is None:  # gone since the token was looked up
        raise Unauthorized("This method requires an authenticated user")
    return json_response(
        schemas.credential_account_to_api(
            found.account, found.user, ctx.config.base_url, found.follow_requests
        )
    )


@require_scopes("read:accounts", "profile")
async def verify_credentials(request: web.Request) -> web.Response:
    return await _credential(ctx_of(request), request)


@require_scopes("write:accounts")
async def update_credentials(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    who = principal(request)
    assert who.user is not None and who.account is not None
    fields = None
    if "fields_attributes" in params:
        fields = []
        for item in params.list("fields_attributes"):
            if isinstance(item, dict):
                fields.append((str(item.get("name") or ""), str(item.get("value") or "")))
    source = params.sub("source")
    await svc.update_credentials(
        ctx,
        who.user,
        who.account,
        svc.ProfileUpdate(
            display_name=params.str("display_name"),
            note=params.str("note"),
            locked=params.opt_bool("locked"),
            bot=params.opt_bool("bot"),
            discoverable=params.opt_bool("discoverable"),
            indexable=params.opt_bool("indexable"),
            fields=fields,
            privacy=source.str("privacy"),
            sensitive=source.opt_bool("sensitive"),
            language=source.str("language"),
            avatar=params.file("avatar"),
            header=params.file("header"),
        ),
    )
    return await _credential(ctx, request)


@authenticated(optional=True, scopes=("read:accounts",))
async def get_account(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    return json_response(_api(ctx, await follows.target(ctx, _account_id(request))))


@authenticated(optional=True, scopes=("read:accounts",))
async def get_accounts(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    found = await ctx.store.accounts.get_many(params.id_list("id")[:40])
    return json_response([_api(ctx, a) for a in found.values() if not a.suspended])


@authenticated(optional=True, scopes=("read:accounts",))
async def lookup_account(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    acct = params.str("acct") or ""
    if not acct:
        raise NotFoundError()
    return json_response(_api(ctx, await svc.lookup(ctx, acct)))


@authenticated(optional=True, scopes=("read:accounts",))
async def search_accounts(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    query = search.AccountQuery(
        q=params.str("q") or "",
        limit=max(1, min(params.int("limit", 40) or 40, 80)),
        offset=params.int("offset", 0) or 0,
        resolve=params.bool("resolve") and principal_or_none(request),
        following=params.bool("following"),
    )
    found = await search.search_accounts(ctx, viewer_id(request), query)
    return json_response([_api(ctx, a) for a in found])


def principal_or_none(request: web.Request) -> bool:
    from fedinode.api.auth import current_cached

    return current_cached(request) is not None


@authenticated(optional=True, scopes=("read:statuses",))
async def account_statuses(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    account = await follows.target(ctx, _account_id(request))
    page = page_from(params)
    viewer = viewer_id(request)
    views, ids = await svc.account_statuses(
        ctx,
        account,
        viewer,
        page,
        exclude_replies=params.bool("exclude_replies"),
        exclude_reblogs=params.bool("exclude_reblogs"),
        only_media=params.bool("only_media"),
        pinned=params.bool("pinned"),
        tagged=params.str("tagged") or None,
    )
    return paged_response(request, schemas.statuses_to_api(views, ctx.config, viewer), ids, page)


async def _follow_list(request: web.Request, which: str) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    account = await follows.target(ctx, _account_id(request))
    page = page_from(params, default_limit=40, max_limit=80)
    viewer = viewer_id(request)
    if (
        viewer is not None
        and viewer != account.id
        and await ctx.store.relationships.is_blocked_either_way(viewer, account.id)
    ):
        return json_response([])
    rows = await (
        ctx.store.relationships.followers(account.id, page)
        if which == "followers"
        else ctx.store.relationships.following(account.id, page)
    )
    accounts = [a for _, a in rows if not a.suspended]
    return paged_response(request, [_api(ctx, a) for a in accounts], [f.id for f, _ in rows], page)


@authenticated(optional=True, scopes=("read:accounts",))
async def account_followers(request: web.Request) -> web.Response:
    return await _follow_list(request, "followers")


@authenticated(optional=True, scopes=("read:accounts",))
async def account_following(request: web.Request) -> web.Response:
    return await _follow_list(request, "following")


def _rel(ctx: Ctx, target_id: int, rel: object) -> web.Response:
    return json_response(schemas.relationship_to_api(target_id, rel))  # type: ignore[arg-type]


@require_scopes("write:follows")
async def follow_account(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    other = await follows.target(ctx, _account_id(request))
    rel = await follows.follow(
        ctx,
        viewer_account(request),
        other,
        reblogs=params.opt_bool("reblogs"),
        notify_posts=params.opt_bool("notify"),
    )
    return _rel(ctx, other.id, rel)


@require_scopes("write:follows")
async def unfollow_account(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    other = await follows.target(ctx, _account_id(request))
    return _rel(ctx, other.id, await follows.unfollow(ctx, viewer_account(request), other))


@require_scopes("write:follows")
async def remove_from_followers(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    other = await follows.target(ctx, _account_id(request))
    return _rel(
        ctx, other.id, await follows.remove_from_followers(ctx, viewer_account(request), other)
    )


@require_scopes("write:blocks")
async def block_account(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    other = await follows.target(ctx, _account_id(request))
    return _rel(ctx, other.id, await follows.block(ctx, viewer_account(request), other))


@require_scopes("write:blocks")
async def unblock_account(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    other = await follows.target(ctx, _account_id(request))
    return _rel(ctx, other.id, await follows.unblock(ctx, viewer_account(request), other))


@require_scopes("write:mutes")
async def mute_account(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    other = await follows.target(ctx, _account_id(request))
    duration = params.int("duration", 0) or 0
    if duration < 0:
        raise ValidationFailed("Validation failed: duration must be positive")
    rel = await follows.mute(
        ctx,
        viewer_account(request),
        other,
        notifications=params.bool("notifications", True),
        duration_s=duration or None,
    )
    return _rel(ctx, other.id, rel)


@require_scopes("write:mutes")
async def unmute_account(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    other = await follows.target(ctx, _account_id(request))
    return _rel(ctx, other.id, await follows.unmute(ctx, viewer_account(request), other))


@require_scopes("write:accounts")
async def account_note(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    other = await follows.target(ctx, _account_id(request))
    account = viewer_account(request)
    comment = (params.str("comment") or "")[:2000]
    await ctx.store.relationships.set_note(account.id, other.id, comment)
    return _rel(ctx, other.id, await follows.relationship(ctx, account, other))


@require_scopes("read:follows")
async def relationships(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    account = viewer_account(request)
    ids = params.id_list("id")[:80]
    rels = await ctx.store.relationships.relationships(account.id, ids)
    existing = await ctx.store.accounts.get_many(ids)
    return json_response(
        [schemas.relationship_to_api(i, rels[i]) for i in ids if i in existing and i in rels]
    )


@require_scopes("read:follows")
async def familiar_followers(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    account = viewer_account(request)
    out = []
    for target_id in params.id_list("id")[:40]:
        accounts = await ctx.store.relationships.familiar_followers(account.id, target_id)
        out.append(schemas.familiar_followers_to_api(target_id, accounts, ctx.config.base_url))
    return json_response(out)


@authenticated(optional=True, scopes=("read:accounts",))
async def account_featured_tags(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = await follows.target(ctx, _account_id(request))
    tags = await ctx.store.tags.featured_tags(account.id)
    return json_response(
        [schemas.featured_tag_to_api(t, account, ctx.config.base_url) for t in tags]
    )


@authenticated(optional=True, scopes=("read:accounts",))
async def account_endorsements(request: web.Request) -> web.Response:
    # We do not support endorsing accounts on a profile, so there are none to list.
    return json_response([])


# -- the viewer's own collections ----------------------------------------------------------


@require_scopes("read:follows")
async def follow_requests(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    page = page_from(params, default_limit=40, max_limit=80)
    rows = await ctx.store.relationships.requests_for(viewer_account(request).id, page)
    return paged_response(request, [_api(ctx, a) for _, a in rows], [r.id for r, _ in rows], page)


@require_scopes("write:follows")
async def authorize_follow_request(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    other = await follows.target(ctx, _account_id(request))
    return _rel(ctx, other.id, await follows.authorize_request(ctx, viewer_account(request), other))


@require_scopes("write:follows")
async def reject_follow_request(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    other = await follows.target(ctx, _account_id(request))
    return _rel(ctx, other.id, await follows.reject_request(ctx, viewer_account(request), other))


@require_scopes("read:blocks")
async def blocks(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    page = page_from(params, default_limit=40, max_limit=80)
    rows = await ctx.store.relationships.blocked_accounts(viewer_account(request).id, page)
    return paged_response(request, [_api(ctx, a) for _, a in rows], [k for k, _ in rows], page)


@require_scopes("read:mutes")
async def mutes(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    page = page_from(params, default_limit=40, max_limit=80)
    rows = await ctx.store.relationships.muted_accounts(viewer_account(request).id, page)
    return paged_response(request, [_api(ctx, a) for _, a in rows], [k for k, _ in rows], page)


@require_scopes("read:blocks")
async def get_domain_blocks(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    page = page_from(params, default_limit=100, max_limit=200)
    rows = await domain_blocks.listed(ctx, viewer_account(request), page)
    return paged_response(request, [d for _, d in rows], [k for k, _ in rows], page)


@require_scopes("write:blocks")
async def block_domain(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    await domain_blocks.block_domain(ctx, viewer_account(request), params.str("domain"))
    return json_response(schemas.empty_to_api())


@require_scopes("write:blocks")
async def unblock_domain(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    await domain_blocks.unblock_domain(ctx, viewer_account(request), params.str("domain"))
    return json_response(schemas.empty_to_api())


async def _marked(request: web.Request, table: str) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    page = page_from(params)
    account = viewer_account(request)
    views, ids = await timelines.marked(ctx, account.id, table, page)
    return paged_response(
        request, schemas.statuses_to_api(views, ctx.config, account.id), ids, page
    )


@require_scopes("read:bookmarks")
async def bookmarks(request: web.Request) -> web.Response:
    return await _marked(request, "bookmarks")


@require_scopes("read:favourites")
async def favourites(request: web.Request) -> web.Response:
    return await _marked(request, "favourites")


@require_scopes("read:accounts")
async def featured_tags(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    account = viewer_account(request)
    tags = await ctx.store.tags.featured_tags(account.id)
    return json_response(
        [schemas.featured_tag_to_api(t, account, ctx.config.base_url) for t in tags]
    )


@require_scopes("write:accounts")
async def feature_tag(request: web.Request) -> web.Response:
    params = await read_params(request)
    ctx = ctx_of(request)
    account = viewer_account(request)
    name = (params.str("name") or "").strip().lstrip("#")
    if not name:
        raise ValidationFailed("Validation failed: Tag can't be blank")
    featured_id = await ctx.store.tags.feature_tag(account.id, name, key=tag_key(name))
    for t in await ctx.store.tags.featured_tags(account.id):
        if t.id == featured_id:
            return json_response(schemas.featured_tag_to_api(t, account, ctx.config.base_url))
    raise NotFoundError()


@require_scopes("write:accounts")
async def unfeature_tag(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    if not await ctx.store.tags.unfeature_tag(
        viewer_account(request).id, _account_id(request) or 0
    ):
        raise NotFoundError()
    return json_response(schemas.empty_to_api())


@require_scopes("read:accounts")
async def endorsements(request: web.Request) -> web.Response:
    return json_response([])
