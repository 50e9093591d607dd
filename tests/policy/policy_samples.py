"""Shared builders for policy tests: contexts, Mastodon/Akkoma/Misskey-shaped activities."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from policy.base import Direction, PolicyContext
from policy.pipeline import Pipeline
from policy.settings import settings_from_mapping

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
REMOTE = "remote.example"
BOB = "https://remote.example/users/bob"


def ctx(
    peer: str = REMOTE,
    direction: Direction = "inbound",
    *,
    local: bool = False,
    actor: str | None = BOB,
    first_seen_hours_ago: float | None = None,
) -> PolicyContext:
    first_seen = None
    if first_seen_hours_ago is not None:
        first_seen = NOW - timedelta(hours=first_seen_hours_ago)
    return PolicyContext(direction, peer, actor, local, NOW, first_seen)


def note(content: str = "<p>hello world</p>", **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": "https://remote.example/users/bob/statuses/1",
        "type": "Note",
        "attributedTo": BOB,
        "content": content,
        "published": "2025-12-31T12:00:00Z",
        "to": [PUBLIC],
        "cc": ["https://remote.example/users/bob/followers"],
        "tag": [],
    }
    obj.update(extra)
    return obj


def create(obj: Any = None, actor: str = BOB, **extra: Any) -> dict[str, Any]:
    """A Mastodon-shaped Create (lists everywhere)."""
    activity: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/activitystreams"],
        "id": "https://remote.example/users/bob/statuses/1/activity",
        "type": "Create",
        "actor": actor,
        "published": "2025-12-31T12:00:00Z",
        "to": [PUBLIC],
        "cc": ["https://remote.example/users/bob/followers"],
        "object": note() if obj is None else obj,
    }
    activity.update(extra)
    return activity


def akkoma_create(content: str, **extra: Any) -> dict[str, Any]:
    """Akkoma/Pleroma shape: `to` as a single string, `tag` as a single object."""
    obj = note(content, to=PUBLIC, cc=[], **extra)
    return create(obj, to=PUBLIC, cc=[])


def misskey_create(content: str, **extra: Any) -> dict[str, Any]:
    """Misskey shape: `as:Public` short form, `cc` as a string, `_misskey_content`."""
    obj = note(content, to=["as:Public"], cc=BOB + "/followers", _misskey_content=content, **extra)
    return create(obj, to=["as:Public"], cc=BOB + "/followers")


def retraction(kind: str, obj: Any) -> dict[str, Any]:
    return {
        "id": f"https://remote.example/users/bob#{kind.lower()}/1",
        "type": kind,
        "actor": BOB,
        "to": [PUBLIC],
        "object": obj,
    }


def pipeline(
    *,
    rules: list[dict[str, Any]] | None = None,
    blocks: list[dict[str, Any]] | None = None,
    allows: list[dict[str, Any]] | None = None,
    mode: str = "open",
    dry_run: bool = False,
) -> Pipeline:
    table: dict[str, Any] = {"dry_run": dry_run}
    if rules is not None:
        table["rules"] = rules
    if blocks is not None:
        table["domain_blocks"] = blocks
    if allows is not None:
        table["domain_allows"] = allows
    return Pipeline(settings_from_mapping(mode, table))


def verdict_of(p: Pipeline, activity: dict[str, Any], context: PolicyContext) -> str:
    """ "accept", "reject" or "rewrite:<actions>" of the enforced outcome."""
    outcome = p.run(activity, context)
    if not outcome.accepted:
        return "reject"
    actions = [d.action for d in outcome.decisions if d.enforced]
    return "rewrite:" + ",".join(actions) if actions else "accept"
