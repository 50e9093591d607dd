"""POST /api/v1/reports."""

from __future__ import annotations

from aiohttp import web

from fedinode.api import schemas
from fedinode.api.auth import require_scopes, viewer_account
from fedinode.api.params import ctx_of, json_response, read_params
from fedinode.services import reports as svc


@require_scopes("write:reports")
async def create_report(request: web.Request) -> web.Response:
    ctx = ctx_of(request)
    params = await read_params(request)
    report, target = await svc.create_report(
        ctx,
        viewer_account(request),
        params.id("account_id"),
        status_ids=params.id_list("status_ids"),
        comment=params.str("comment") or "",
        category=params.str("category"),
        rule_ids=params.id_list("rule_ids"),
        forward=params.bool("forward"),
    )
    return json_response(schemas.report_to_api(report, target, ctx.config.base_url))
