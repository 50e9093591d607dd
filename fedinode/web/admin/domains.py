"""Admin pages for domain blocks and allows: list, add, edit, remove. A suspend (new, or
raised from a lighter block) first shows what it would sever, and is made only once the
admin confirms it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedinode import appkeys
from fedinode.api.params import Params, path_id
from fedinode.errors import ValidationFailed
from fedinode.services import policy as policy_service
from fedinode.services import policy_lists
from fedinode.services.policy import DomainBlockExists
from fedinode.web.admin.panel import Admin, admin_page, done, failure, page
from fedinode.web.i18n import N_
from fedinode.web.policy_words import FLAG_NAMES, SEVERITY_CHOICES, SEVERITY_NAMES
from policy.settings import BLOCK_FLAGS, BLOCK_TEXTS, SEVERITIES
from storage.models import DomainBlockRow
from storage.paging import Page

BLOCKS = "/admin/domain_blocks"
ALLOWS = "/admin/domain_allows"
_PAGE = 100
_WORDS: dict[str, Any] = {
    "severity_names": SEVERITY_NAMES,
    "severity_choices": SEVERITY_CHOICES,
    "flag_names": FLAG_NAMES,
    "flags": BLOCK_FLAGS,
    "severities": SEVERITIES,
}


def _form(params: Params) -> dict[str, Any]:
    """The block form's values as the admin typed them (for showing it again)."""
    values: dict[str, Any] = {
        "domain": (params.str("domain") or "").strip(),
        "severity": params.str("severity") or "silence",
        "publish": params.bool("publish"),
    }
    values.update({name: params.bool(name) for name in BLOCK_FLAGS})
    values.update({name: params.str(name) or "" for name in BLOCK_TEXTS})
    return values


def _values_of(row: DomainBlockRow, published: bool) -> dict[str, Any]:
    values: dict[str, Any] = {"domain": row.domain, "severity": row.severity, "publish": published}
    values.update({name: getattr(row, name) for name in (*BLOCK_FLAGS, *BLOCK_TEXTS)})
    return values


def _input(values: dict[str, Any], *, creating: bool) -> policy_service.BlockInput:
    return policy_service.block_input(
        values["severity"],
        {name: bool(values[name]) for name in BLOCK_FLAGS},
        {name: values[name] for name in BLOCK_TEXTS},
        creating=creating,
    )


async def _form_page(
    request: web.Request,
    *,
    values: dict[str, Any],
    block_id: int | None,
    error: str = "",
    status: int = 200,
) -> web.Response:
    return await page(
        request,
        "admin/domain_block_form.html",
        title=N_("Edit a domain block") if block_id else N_("Add a domain block"),
        section=BLOCKS,
        error=error,
        status=status,
        values=values,
        block_id=block_id,
        **_WORDS,
    )


async def _preview(
    request: web.Request, values: dict[str, Any], block_id: int | None
) -> web.Response:
    """What the suspend would sever, and the button that makes it."""
    impact = await policy_service.preview(
        request.app[appkeys.STORE], request.app[appkeys.POLICY], values["domain"], "suspend"
    )
    return await page(
        request,
        "admin/domain_block_preview.html",
        title=N_("Suspend {domain}?"),
        title_values={"domain": values["domain"]},
        section=BLOCKS,
        values=values,
        block_id=block_id,
        impact=impact,
        **_WORDS,
    )


@admin_page
async def blocks_page(request: web.Request, admin: Admin) -> web.Response:
    store = request.app[appkeys.STORE]
    max_id = admin.params.int("max_id")
    rows = await policy_service.list_blocks(store, Page(max_id=max_id, limit=_PAGE))
    marks = await policy_lists.marks(store)
    return await page(
        request,
        "admin/domain_blocks.html",
        title=N_("Domain blocks"),
        section=BLOCKS,
        rows=rows,
        marks={d: m for (k, d), m in marks.items() if k == "block"},
        older=f"{BLOCKS}?max_id={rows[-1].id}" if len(rows) == _PAGE else "",
        file_blocks=request.app[appkeys.POLICY].settings.domain_blocks,
        db_domains={r.domain for r in rows},
        **_WORDS,
    )


@admin_page
async def new_block_page(request: web.Request, admin: Admin) -> web.Response:
    values = _form(admin.params)
    values["severity"] = admin.params.str("severity") or "suspend"
    return await _form_page(request, values=values, block_id=None)


@admin_page
async def create_block(request: web.Request, admin: Admin) -> web.Response:
    values = _form(admin.params)
    store = request.app[appkeys.STORE]
    gate = request.app[appkeys.POLICY]
    try:
        spec = _input(values, creating=True)
        if spec.severity == "suspend" and not admin.params.bool("confirmed"):
            return await _preview(request, values, None)
        change = await policy_service.create_block(
            store, gate, values["domain"], spec, purge=admin.params.bool("purge"), by=admin.name
        )
    except DomainBlockExists as exc:
        return await _form_page(
            request, values=values, block_id=None, error=failure(exc), status=422
        )
    except ValidationFailed as exc:
        return await _form_page(
            request, values=values, block_id=None, error=failure(exc), status=422
        )
    await policy_lists.after_admin_change(
        store, "block", change.block.domain, published=values["publish"] or None
    )
    raise done(BLOCKS, "block_added", change.block.domain)


@admin_page
async def edit_block_page(request: web.Request, admin: Admin) -> web.Response:
    store = request.app[appkeys.STORE]
    row = await policy_service.get_block(store, path_id(request))
    mark = (await policy_lists.marks(store)).get(("block", row.domain))
    values = _values_of(row, bool(mark and mark.published))
    return await _form_page(request, values=values, block_id=row.id)


@admin_page
async def update_block(request: web.Request, admin: Admin) -> web.Response:
    store = request.app[appkeys.STORE]
    gate = request.app[appkeys.POLICY]
    current = await policy_service.get_block(store, path_id(request))
    values = {**_form(admin.params), "domain": current.domain}
    try:
        spec = _input(values, creating=False)
        raising = spec.severity == "suspend" and current.severity != "suspend"
        if raising and not admin.params.bool("confirmed"):
            return await _preview(request, values, current.id)
        change = await policy_service.update_block(
            store, gate, current.id, spec, purge=admin.params.bool("purge"), by=admin.name
        )
    except ValidationFailed as exc:
        return await _form_page(
            request, values=values, block_id=current.id, error=failure(exc), status=422
        )
    await policy_lists.after_admin_change(
        store, "block", change.block.domain, published=values["publish"]
    )
    raise done(BLOCKS, "block_changed", change.block.domain)


@admin_page
async def delete_block(request: web.Request, admin: Admin) -> web.Response:
    row = await policy_service.delete_block(
        request.app[appkeys.STORE], request.app[appkeys.POLICY], path_id(request), by=admin.name
    )
    raise done(BLOCKS, "block_removed", row.domain)


# -- allows ------------------------------------------------------------------------------


async def _allows(request: web.Request, admin: Admin, *, error: str = "", status: int = 200) -> web.Response:
    store = request.app[appkeys.STORE]
    gate = request.app[appkeys.POLICY]
    rows = await policy_service.list_allows(store, Page(limit=200))
    marks = await policy_lists.marks(store)
    return await page(
        request,
        "admin/domain_allows.html",
        title=N_("Domain allows"),
        section=ALLOWS,
        error=error,
        status=status,
        rows=rows,
        marks={d: m for (k, d), m in marks.items() if k == "allow"},
        mode=gate.settings.mode,
        domain=(admin.params.str("domain") or "").strip() if error else "",
    )


@admin_page
async def allows_page(request: web.Request, admin: Admin) -> web.Response:
    return await _allows(request, admin)


@admin_page
async def create_allow(request: web.Request, admin: Admin) -> web.Response:
    store = request.app[appkeys.STORE]
    try:
        row = await policy_service.create_allow(
            store, request.app[appkeys.POLICY], admin.params.str("domain") or "", by=admin.name
        )
    except ValidationFailed as exc:
        return await _allows(request, admin, error=failure(exc), status=422)
    await policy_lists.after_admin_change(
        store, "allow", row.domain, published=admin.params.bool("publish") or None
    )
    raise done(ALLOWS, "allow_added", row.domain)


@admin_page
async def delete_allow(request: web.Request, admin: Admin) -> web.Response:
    row, _ = await policy_service.delete_allow(
        request.app[appkeys.STORE], request.app[appkeys.POLICY], path_id(request), by=admin.name
    )
    raise done(ALLOWS, "allow_removed", row.domain)


ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", BLOCKS, blocks_page),
    ("POST", BLOCKS, create_block),
    ("GET", BLOCKS + "/new", new_block_page),
    ("GET", BLOCKS + r"/{id:\d+}", edit_block_page),
    ("POST", BLOCKS + r"/{id:\d+}", update_block),
    ("POST", BLOCKS + r"/{id:\d+}/delete", delete_block),
    ("GET", ALLOWS, allows_page),
    ("POST", ALLOWS, create_allow),
    ("POST", ALLOWS + r"/{id:\d+}/delete", delete_allow),
)
