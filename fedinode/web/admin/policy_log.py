"""Admin pages for the policy decision log: the newest decisions first (filters by
direction, peer and rule), and for any entry its explanation: the record as ``fedinode
policy log`` prints it, what the policy in force says of that peer now, and, when the
activity is still at hand (held in quarantine), every rule's verdict on it as ``fedinode
policy explain`` gives. Any activity can also be pasted and explained."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from fedinode import appkeys
from fedinode.api.params import path_id
from fedinode.errors import ValidationFailed
from fedinode.services import policy as policy_service
from fedinode.services import quarantine as quarantine_service
from fedinode.web.admin.panel import Admin, admin_page, failure, page
from fedinode.web.i18n import N_
from fedinode.web.policy_words import DIRECTION_NAMES
from fedinode.web.render import page_translator
from storage.models import PolicyDecisionRow
from storage.paging import Page

BASE = "/admin/policy_log"
_PAGE = 50
_MAX_ACTIVITY_BYTES = 262_144


async def _held_activity(request: web.Request, row: PolicyDecisionRow) -> dict[str, Any] | None:
    """The activity of a log entry when it is still held in quarantine."""
    if not row.activity_id or not row.peer:
        return None
    try:
        found = await quarantine_service.held_activity(
            request.app[appkeys.STORE], row.peer, row.activity_id
        )
    except ValidationFailed:
        return None
    return found


@admin_page
async def log_page(request: web.Request, admin: Admin) -> web.Response:
    params = admin.params
    direction = params.str("direction") or ""
    peer = (params.str("peer") or "").strip()
    rule = (params.str("rule") or "").strip()
    error = ""
    try:
        rows = await policy_service.decisions(
            request.app[appkeys.STORE],
            Page(max_id=params.int("max_id"), limit=_PAGE),
            direction=direction or None,
            peer=peer or None,
            rule=rule or None,
        )
    except ValidationFailed as exc:
        rows, error = [], failure(exc)
    filters = "".join(
        f"&{k}={v}" for k, v in (("direction", direction), ("peer", peer), ("rule", rule)) if v
    )
    return await page(
        request,
        "admin/policy_log.html",
        title=N_("Policy log"),
        section=BASE,
        error=error,
        status=422 if error else 200,
        rows=rows,
        direction=direction,
        peer=peer,
        rule=rule,
        directions=DIRECTION_NAMES,
        source=policy_service.decision_source,
        older=f"{BASE}?max_id={rows[-1].id}{filters}" if len(rows) == _PAGE else "",
    )


@admin_page
async def entry_page(request: web.Request, admin: Admin) -> web.Response:
    gate = request.app[appkeys.POLICY]
    row = await policy_service.decision(request.app[appkeys.STORE], path_id(request))
    host_now = None
    if row.peer:
        direction = row.direction if row.direction in policy_service.DIRECTIONS else "inbound"
        verdict = gate.pipeline.check_host(row.peer, direction)  # type: ignore[arg-type]
        host_now = {"allowed": verdict.allowed, "rule": verdict.rule, "reason": verdict.reason}
    activity = await _held_activity(request, row)
    explanation = policy_service.explain(gate, activity, row.peer) if activity else None
    return await page(
        request,
        "admin/policy_entry.html",
        title=N_("Policy log entry {id}"),
        title_values={"id": row.id},
        section=BASE,
        row=row,
        source=policy_service.decision_source(row),
        directions=DIRECTION_NAMES,
        host_now=host_now,
        explanation=explanation,
        activity_text=_pretty(activity) if activity else "",
        peer=row.peer,
    )


def _pretty(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


@admin_page
async def explain_page(request: web.Request, admin: Admin) -> web.Response:
    """GET: the form; POST: the pasted activity explained (nothing is changed or logged)."""
    text = admin.params.str("activity") or ""
    peer = (admin.params.str("peer") or "").strip()
    explanation = None
    error = ""
    if request.method == "POST":
        activity: Any = None
        if len(text.encode()) > _MAX_ACTIVITY_BYTES:
            error = N_("The activity is too large.")
        else:
            try:
                activity = orjson.loads(text)
            except orjson.JSONDecodeError:
                error = N_("This is not JSON.")
        if not error and not isinstance(activity, dict):
            error = N_("Paste one activity: a JSON object.")
        if not error:
            explanation = policy_service.explain(request.app[appkeys.POLICY], activity, peer)
    t_error = (await page_translator(request))(error) if error else ""
    return await page(
        request,
        "admin/policy_explain.html",
        title=N_("Explain an activity"),
        section=BASE,
        error=t_error,
        status=422 if error else 200,
        activity_text=text,
        peer=peer,
        explanation=explanation,
    )


ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", BASE, log_page),
    ("GET", BASE + r"/{id:\d+}", entry_page),
    ("GET", BASE + "/explain", explain_page),
    ("POST", BASE + "/explain", explain_page),
)
