"""Admin API for the federation policy: domain blocks, domain allows, policy decisions.

Mastodon's ``/api/v1/admin/domain_blocks`` and ``/api/v1/admin/domain_allows``, plus
fedinode extensions: the impact preview of a block, CSV import/export in Mastodon's
format, and the policy decision log. Every endpoint needs an admin user's token with the
admin scope named (``admin:read`` / ``admin:write`` cover them).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from fedinode import appkeys
from fedinode.api import schemas
from fedinode.api.auth import check, viewer_account
from fedinode.api.params import Params, json_response, link_header, page_from, path_id, read_params
from fedinode.errors import Forbidden, ValidationFailed
from fedinode.services import policy as policy_service
from fedinode.services.policy import BlockChange, DomainBlockExists
from policy.settings import BLOCK_FLAGS, BLOCK_TEXTS

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
H = TypeVar("H", bound=Handler)
NOT_ALLOWED = "This action is not allowed"
_MAX_CSV_BYTES = 4_194_304


def admin(*scopes: str) -> Callable[[H], H]:
    """A token holding one of ``scopes``, of a user who is an admin (403 otherwise)."""

    def decorate(handler: H) -> H:
        @functools.wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            found = await check(request, scopes)
            if found is None or found.user is None or not found.user.admin:
                raise Forbidden(NOT_ALLOWED)
            return await handler(request)

        return wrapper  # type: ignore[return-value]

    return decorate


def _id(request: web.Request) -> int:
    return path_id(request)


def _by(request: web.Request) -> str:
    """The admin making a change, as the policy log names them (the admin panel does too)."""
    return viewer_account(request).username


def _block_input(params: Params, *, creating: bool) -> policy_service.BlockInput:
    return policy_service.block_input(
        params.str("severity"),
        {name: params.opt_bool(name) for name in BLOCK_FLAGS},
        {name: params.str(name) for name in BLOCK_TEXTS},
        creating=creating,
    )


def _block_response(change: BlockChange) -> web.Response:
    # Extension: what the change severed (a suspend, usually), as ``severed``.
    return json_response(schemas.domain_block_to_api(change.block, change.impact))


async def _published(request: web.Request, params: Params, kind: str, domain: str) -> None:
    """Extension: ``published`` lists the rule in /policy/list.json; an admin's edit of a
    rule a subscribed list made adopts it (a retraction upstream no longer removes it)."""
    from fedinode.services.policy_lists import after_admin_change

    await after_admin_change(
        request.app[appkeys.STORE], kind, domain, published=params.opt_bool("published")
    )


# -- domain blocks -----------------------------------------------------------------------


@admin("admin:read:domain_blocks")
async def list_domain_blocks(request: web.Request) -> web.Response:
    params = await read_params(request)
    page = page_from(params, default_limit=100, max_limit=200)
    rows = await policy_service.list_blocks(request.app[appkeys.STORE], page)
    return json_response(
        [schemas.domain_block_to_api(r) for r in rows],
        headers=link_header(request, [r.id for r in rows], page),
    )


@admin("admin:read:domain_blocks")
async def get_domain_block(request: web.Request) -> web.Response:
    row = await policy_service.get_block(request.app[appkeys.STORE], _id(request))
    return json_response(schemas.domain_block_to_api(row))


@admin("admin:write:domain_blocks")
async def create_domain_block(request: web.Request) -> web.Response:
    params = await read_params(request)
    spec = _block_input(params, creating=True)
    try:
        change = await policy_service.create_block(
            request.app[appkeys.STORE],
            request.app[appkeys.POLICY],
            params.str("domain") or "",
            spec,
            purge=params.bool("purge"),
            by=_by(request),
        )
    except DomainBlockExists as exc:
        return json_response(
            schemas.domain_block_conflict_to_api(exc.message, exc.existing),
            status=422,
        )
    await _published(request, params, "block", change.block.domain)
    return _block_response(change)


@admin("admin:write:domain_blocks")
async def update_domain_block(request: web.Request) -> web.Response:
    params = await read_params(request)
    if "domain" in params:
        store = request.app[appkeys.STORE]
        current = await policy_service.get_block(store, _id(request))
        if policy_service.clean_domain(params.str("domain")) != current.domain:
            raise ValidationFailed(
                "Validation failed: the domain of a block cannot change; delete it and create another"
            )
    change = await policy_service.update_block(
        request.app[appkeys.STORE],
        request.app[appkeys.POLICY],
        _id(request),
        _block_input(params, creating=False),
        purge=params.bool("purge"),
        by=_by(request),
    )
    await _published(request, params, "block", change.block.domain)
    return _block_response(change)


@admin("admin:write:domain_blocks")
async def delete_domain_block(request: web.Request) -> web.Response:
    await policy_service.delete_block(
        request.app[appkeys.STORE], request.app[appkeys.POLICY], _id(request), by=_by(request)
    )
    return json_response(schemas.empty_to_api())


@admin("admin:read:domain_blocks")
async def preview_domain_block(request: web.Request) -> web.Response:
    """Extension: what suspending (or ``severity``) ``domain`` would sever, changing nothing."""
    params = await read_params(request)
    impact = await policy_service.preview(
        request.app[appkeys.STORE],
        request.app[appkeys.POLICY],
        params.str("domain") or "",
        params.str("severity") or "suspend",
    )
    return json_response(schemas.domain_block_impact_to_api(impact))


@admin("admin:read:domain_blocks")
async def export_domain_blocks(request: web.Request) -> web.Response:
    """Extension: every block in force as Mastodon's CSV (``extended=true`` adds ours)."""
    params = await read_params(request)
    text = policy_service.export_csv(request.app[appkeys.POLICY], extended=params.bool("extended"))
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="domain_blocks.csv"'},
    )


async def _csv_text(request: web.Request) -> str:
    if request.content_type == "multipart/form-data":
        params = await read_params(request)
        upload = params.file("data")
        if upload is not None:
            raw = upload.file.read(_MAX_CSV_BYTES + 1)
        else:
            raw = (params.str("data") or "").encode()
    elif request.content_type == "application/x-www-form-urlencoded":
        raw = ((await read_params(request)).str("data") or "").encode()
    else:
        raw = await request.read()
    if len(raw) > _MAX_CSV_BYTES:
        raise ValidationFailed("Validation failed: the CSV file is too large")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("Validation failed: the CSV file must be UTF-8") from None


@admin("admin:write:domain_blocks")
async def import_domain_blocks(request: web.Request) -> web.Response:
    """Extension: Mastodon's CSV as a multipart ``data`` file or the raw body."""
    flags = Params(dict(request.query))
    text = await _csv_text(request)
    if not text.strip():
        raise ValidationFailed("Validation failed: the CSV file is empty (send it as 'data')")
    result = await policy_service.import_csv(
        request.app[appkeys.STORE],
        request.app[appkeys.POLICY],
        text,
        overwrite=flags.bool("overwrite"),
        purge=flags.bool("purge"),
    )
    return json_response(
        schemas.domain_import_to_api(result.created, result.updated, result.skipped, result.severed)
    )


# -- domain allows -----------------------------------------------------------------------


@admin("admin:read:domain_allows")
async def list_domain_allows(request: web.Request) -> web.Response:
    params = await read_params(request)
    page = page_from(params, default_limit=100, max_limit=200)
    rows = await policy_service.list_allows(request.app[appkeys.STORE], page)
    return json_response(
        [schemas.domain_allow_to_api(r) for r in rows],
        headers=link_header(request, [r.id for r in rows], page),
    )


@admin("admin:read:domain_allows")
async def get_domain_allow(request: web.Request) -> web.Response:
    row = await policy_service.get_allow(request.app[appkeys.STORE], _id(request))
    return json_response(schemas.domain_allow_to_api(row))


@admin("admin:write:domain_allows")
async def create_domain_allow(request: web.Request) -> web.Response:
    params = await read_params(request)
    row = await policy_service.create_allow(
        request.app[appkeys.STORE],
        request.app[appkeys.POLICY],
        params.str("domain") or "",
        by=_by(request),
    )
    await _published(request, params, "allow", row.domain)
    return json_response(schemas.domain_allow_to_api(row))


@admin("admin:write:domain_allows")
async def delete_domain_allow(request: web.Request) -> web.Response:
    await policy_service.delete_allow(
        request.app[appkeys.STORE], request.app[appkeys.POLICY], _id(request), by=_by(request)
    )
    return json_response(schemas.empty_to_api())


# -- policy in force and decisions -------------------------------------------------------


@admin("admin:read")
async def get_policy(request: web.Request) -> web.Response:
    """Extension: the effective policy (file merged with the database), as `policy check`
    prints it: real domains, private comments and rule options included."""
    return json_response(request.app[appkeys.POLICY].describe(private=True))


@admin("admin:read")
async def list_policy_decisions(request: web.Request) -> web.Response:
    """Extension: the audit log, newest first; filters ``direction``, ``peer``, ``rule``."""
    params = await read_params(request)
    page = page_from(params, default_limit=40, max_limit=200)
    rows = await policy_service.decisions(
        request.app[appkeys.STORE],
        page,
        direction=params.str("direction"),
        peer=params.str("peer"),
        rule=params.str("rule"),
    )
    return json_response(
        [schemas.policy_decision_to_api(r) for r in rows],
        headers=link_header(request, [r.id for r in rows], page),
    )
