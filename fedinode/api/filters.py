"""/api/v2/filters (filters, their keywords and statuses) and the v1 keyword filters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from fedinode import appkeys
from fedinode.api import schemas
from fedinode.api.auth import require_scopes, viewer_account
from fedinode.api.params import Params, json_response, path_id, read_params
from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services import filters as service
from storage.filters import KeywordChange
from storage.models import Filter
from storage.store import Store

if TYPE_CHECKING:
    from fedinode.api import entities

READ = ("read:filters",)
WRITE = ("write:filters",)


def _id(request: web.Request, name: str = "id") -> int:
    return path_id(request, name)


def _store(request: web.Request) -> Store:
    return request.app[appkeys.STORE]


def _keyword_changes(params: Params) -> list[KeywordChange]:
    out = []
    for item in params.list("keywords_attributes"):
        if not isinstance(item, dict):
            continue
        p = Params(item)
        out.append(
            KeywordChange(
                id=p.id("id"),
                keyword=p.str("keyword"),
                whole_word=p.opt_bool("whole_word"),
                destroy=p.bool("_destroy"),
            )
        )
    return out


def _input(params: Params) -> service.FilterInput:
    contexts = params.str_list("context") if "context" in params else None
    expires_set = "expires_in" in params
    return service.FilterInput(
        title=params.str("title"),
        contexts=contexts,
        action=params.str("filter_action"),
        expires_in=params.int("expires_in") if expires_set else None,
        expires_set=expires_set,
        keywords=_keyword_changes(params),
    )


async def _render(store: Store, f: Filter) -> entities.Filter:
    return schemas.filter_to_api(f, await service.statuses_of(store, f))


@require_scopes(*READ)
async def list_filters(request: web.Request) -> web.Response:
    store = _store(request)
    account = viewer_account(request)
    filters = await store.filters.all(account.id)
    statuses = await store.filters.statuses([f.id for f in filters])
    return json_response(
        [schemas.filter_to_api(f, [s for s in statuses if s.filter_id == f.id]) for f in filters]
    )


@require_scopes(*READ)
async def get_filter(request: web.Request) -> web.Response:
    store = _store(request)
    f = await service.own_filter(store, viewer_account(request).id, _id(request))
    return json_response(await _render(store, f))


@require_scopes(*WRITE)
async def create_filter(request: web.Request) -> web.Response:
    store = _store(request)
    params = await read_params(request)
    f = await service.create_filter(store, viewer_account(request).id, _input(params))
    return json_response(await _render(store, f))


@require_scopes(*WRITE)
async def update_filter(request: web.Request) -> web.Response:
    store = _store(request)
    params = await read_params(request)
    f = await service.update_filter(store, viewer_account(request).id, _id(request), _input(params))
    return json_response(await _render(store, f))


@require_scopes(*WRITE)
async def delete_filter(request: web.Request) -> web.Response:
    await service.delete_filter(_store(request), viewer_account(request).id, _id(request))
    return json_response(schemas.empty_to_api())


# -- keywords ---------------------------------------------------------------------------


@require_scopes(*READ)
async def list_keywords(request: web.Request) -> web.Response:
    f = await service.own_filter(_store(request), viewer_account(request).id, _id(request))
    return json_response([schemas.filter_keyword_to_api(k) for k in f.keywords])


@require_scopes(*WRITE)
async def add_keyword(request: web.Request) -> web.Response:
    store = _store(request)
    account = viewer_account(request)
    f = await service.own_filter(store, account.id, _id(request))
    params = await read_params(request)
    keyword = (params.str("keyword") or "").strip()
    if not keyword:
        raise ValidationFailed("Validation failed: Keyword can't be blank")
    if len(keyword) > service.KEYWORD_LIMIT:
        raise ValidationFailed("Validation failed: Keyword is too long")
    added = await store.filters.add_keyword(f.id, keyword, params.bool("whole_word", True))
    await service.changed(store, account.id)
    return json_response(schemas.filter_keyword_to_api(added))


async def _own_keyword(request: web.Request) -> Any:
    kid = _id(request)
    found = (
        None
        if kid is None
        else await _store(request).filters.keyword(viewer_account(request).id, kid)
    )
    if found is None:
        raise NotFoundError()
    return found


@require_scopes(*READ)
async def get_keyword(request: web.Request) -> web.Response:
    return json_response(schemas.filter_keyword_to_api(await _own_keyword(request)))


@require_scopes(*WRITE)
async def update_keyword(request: web.Request) -> web.Response:
    store = _store(request)
    found = await _own_keyword(request)
    params = await read_params(request)
    keyword = params.str("keyword")
    if keyword is not None and not keyword.strip():
        raise ValidationFailed("Validation failed: Keyword can't be blank")
    updated = await store.filters.update_keyword(
        found.id, keyword=keyword, whole_word=params.opt_bool("whole_word")
    )
    if updated is None:
        raise NotFoundError()
    await service.changed(store, viewer_account(request).id)
    return json_response(schemas.filter_keyword_to_api(updated))


@require_scopes(*WRITE)
async def delete_keyword(request: web.Request) -> web.Response:
    store = _store(request)
    found = await _own_keyword(request)
    await store.filters.delete_keyword(found.id)
    await service.changed(store, viewer_account(request).id)
    return json_response(schemas.empty_to_api())


# -- statuses ---------------------------------------------------------------------------


@require_scopes(*READ)
async def list_filter_statuses(request: web.Request) -> web.Response:
    store = _store(request)
    f = await service.own_filter(store, viewer_account(request).id, _id(request))
    return json_response(
        [schemas.filter_status_to_api(s) for s in await service.statuses_of(store, f)]
    )


@require_scopes(*WRITE)
async def add_filter_status(request: web.Request) -> web.Response:
    store = _store(request)
    account = viewer_account(request)
    params = await read_params(request)
    status_id = params.id("status_id")
    status = None if status_id is None else await store.statuses.get(status_id)
    if status is None or not await store.statuses.visible_to(status, account.id):
        raise NotFoundError()
    added = await service.add_status(store, account.id, _id(request), status)
    return json_response(schemas.filter_status_to_api(added))


async def _own_filter_status(request: web.Request) -> Any:
    fid = _id(request)
    found = (
        None
        if fid is None
        else await _store(request).filters.status(viewer_account(request).id, fid)
    )
    if found is None:
        raise NotFoundError()
    return found


@require_scopes(*READ)
async def get_filter_status(request: web.Request) -> web.Response:
    return json_response(schemas.filter_status_to_api(await _own_filter_status(request)))


@require_scopes(*WRITE)
async def delete_filter_status(request: web.Request) -> web.Response:
    store = _store(request)
    found = await _own_filter_status(request)
    await store.filters.delete_status(found.id)
    await service.changed(store, viewer_account(request).id)
    return json_response(schemas.empty_to_api())


# -- v1: one keyword per filter ---------------------------------------------------------


async def _v1_pairs(store: Store, account_id: int) -> list[tuple[Filter, Any]]:
    return [(f, k) for f in await store.filters.all(account_id) for k in f.keywords]


async def _v1_one(request: web.Request) -> tuple[Filter, Any]:
    store = _store(request)
    account = viewer_account(request)
    kid = _id(request)
    keyword = None if kid is None else await store.filters.keyword(account.id, kid)
    if keyword is None:
        raise NotFoundError()
    f = await store.filters.get(account.id, keyword.filter_id)
    if f is None:
        raise NotFoundError()
    return f, keyword


def _v1_input(params: Params, *, creating: bool) -> service.FilterInput:
    phrase = params.str("phrase")
    if creating and not (phrase or "").strip():
        raise ValidationFailed("Validation failed: Phrase can't be blank")
    irreversible = params.opt_bool("irreversible")
    expires_set = "expires_in" in params
    return service.FilterInput(
        title=phrase,
        contexts=params.str_list("context") if "context" in params else None,
        action=None if irreversible is None else ("hide" if irreversible else "warn"),
        expires_in=params.int("expires_in") if expires_set else None,
        expires_set=expires_set,
        keywords=[],
    )


@require_scopes(*READ)
async def list_filters_v1(request: web.Request) -> web.Response:
    pairs = await _v1_pairs(_store(request), viewer_account(request).id)
    return json_response([schemas.filter_v1_to_api(f, k) for f, k in pairs])


@require_scopes(*READ)
async def get_filter_v1(request: web.Request) -> web.Response:
    f, k = await _v1_one(request)
    return json_response(schemas.filter_v1_to_api(f, k))


@require_scopes(*WRITE)
async def create_filter_v1(request: web.Request) -> web.Response:
    store = _store(request)
    params = await read_params(request)
    data = _v1_input(params, creating=True)
    whole_word = params.bool("whole_word", True)
    created = await service.create_filter(
        store,
        viewer_account(request).id,
        service.FilterInput(
            title=data.title,
            contexts=data.contexts,
            action=data.action,
            expires_in=data.expires_in,
            expires_set=data.expires_set,
            keywords=[KeywordChange(keyword=(data.title or "").strip(), whole_word=whole_word)],
        ),
    )
    return json_response(schemas.filter_v1_to_api(created, created.keywords[0]))


@require_scopes(*WRITE)
async def update_filter_v1(request: web.Request) -> web.Response:
    store = _store(request)
    account = viewer_account(request)
    f, k = await _v1_one(request)
    params = await read_params(request)
    data = _v1_input(params, creating=False)
    change = KeywordChange(id=k.id, keyword=data.title, whole_word=params.opt_bool("whole_word"))
    updated = await service.update_filter(
        store,
        account.id,
        f.id,
        service.FilterInput(
            title=data.title if len(f.keywords) == 1 else None,
            contexts=data.contexts,
            action=data.action,
            expires_in=data.expires_in,
            expires_set=data.expires_set,
            keywords=[change],
        ),
    )
    keyword = next((x for x in updated.keywords if x.id == k.id), k)
    return json_response(schemas.filter_v1_to_api(updated, keyword))


@require_scopes(*WRITE)
async def delete_filter_v1(request: web.Request) -> web.Response:
    store = _store(request)
    account = viewer_account(request)
    f, k = await _v1_one(request)
    if len(f.keywords) <= 1:
        await service.delete_filter(store, account.id, f.id)
    else:
        await store.filters.delete_keyword(k.id)
        await service.changed(store, account.id)
    return json_response(schemas.empty_to_api())
