"""``fedinode policy check | explain | log | impact``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from activitypub.policy_gate import PolicyGate
from fedinode.config import Config
from policy.base import PolicyContext
from policy.pipeline import Pipeline
from storage.paging import Page
from storage.store import Store


def _print_json(value: Any, *, indent: bool = True) -> None:
    option = orjson.OPT_INDENT_2 if indent else 0
    sys.stdout.write(orjson.dumps(value, option=option).decode() + "\n")


def check(config: Config) -> int:
    """The configuration has already been validated by loading it; print what is in force."""
    pipeline = Pipeline(config.policy)
    _print_json(pipeline.describe(private=True))
    print(
        f"policy ok: mode {config.policy.mode}, {len(config.policy.domain_blocks)} domain block(s), "
        f"{len(config.policy.domain_allows)} allow(s), {len(config.policy.rules)} rule(s)"
        + (", dry run" if config.policy.dry_run else ""),
        file=sys.stderr,
    )
    return 0


async def _gate(config: Config) -> tuple[Store, PolicyGate]:
    store = await Store.open(config.database.url)
    gate = PolicyGate(config.policy, store)
    await gate.refresh()
    return store, gate


async def explain(config: Config, path: str, peer: str, *, as_json: bool) -> int:
    from fedinode.cli import UsageError

    try:
        activity = orjson.loads(Path(path).read_bytes())  # noqa: ASYNC240 - a CLI, one small file
    except OSError as exc:
        raise UsageError(f"activity: cannot read {path}: {exc.strerror}") from None
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"activity: {path} is not JSON: {exc}") from None
    if not isinstance(activity, dict):
        raise UsageError(f"activity: {path} must hold one JSON object")
    actor = activity.get("actor")
    actor_id = (
        actor if isinstance(actor, str) else (actor.get("id") if isinstance(actor, dict) else None)
    )
    if not peer and isinstance(actor_id, str):
        from urllib.parse import urlsplit

        peer = urlsplit(actor_id).netloc
    store, gate = await _gate(config)
    try:
        host = gate.pipeline.check_host(peer, "inbound") if peer else None
        ctx = PolicyContext(
            direction="inbound", peer=peer, actor=actor_id, local=not peer, now=datetime.now(UTC)
        )
        verdicts = gate.pipeline.explain(activity, ctx)
        outcome = gate.pipeline.run(activity, ctx)
    finally:
        await store.close()
    rules: list[dict[str, Any]] = [v.to_json() for v in verdicts]
    result: dict[str, Any] = {
        "peer": peer,
        "host": None
        if host is None
        else {"allowed": host.allowed, "rule": host.rule, "reason": host.reason},
        "rules": rules,
        "final": "accept" if outcome.accepted else "reject",
        "decisions": [d.to_json() for d in outcome.decisions],
    }
    if as_json:
        _print_json(result)
    else:
        if host is not None:
            print(
                f"host {peer}: {'allowed' if host.allowed else 'refused'}"
                + (f" by {host.rule}: {host.reason}" if host.rule else "")
            )
        for v in rules:
            print(" ".join(f"{k}={v[k]}" for k in v))
        print(f"final: {result['final']}")
    return 0


async def show_log(config: Config, *, limit: int, as_json: bool) -> int:
    store = await Store.open(config.database.url)
    try:
        rows = await store.policy.decisions(Page(limit=max(1, min(limit, 10_000))))
    finally:
        await store.close()
    for r in rows:
        record = {
            "time": datetime.fromtimestamp(r.time / 1000, UTC).isoformat(),
            "direction": r.direction,
            "peer": r.peer,
            "actor": r.actor,
            "activity_id": r.activity_id,
            "activity_type": r.activity_type,
            "rule": r.rule,
            "action": r.action,
            "enforced": r.enforced,
            "reason": r.reason,
        }
        if as_json:
            _print_json(record, indent=False)
        else:
            print(
                f"{record['time']} {r.direction:8} {r.peer} {r.activity_type or '-'} {r.rule} → {r.action}"
                + ("" if r.enforced else " [dry run]")
                + (f" ({r.reason})" if r.reason else "")
            )
    return 0


async def impact(config: Config, domain: str) -> int:
    store = await Store.open(config.database.url)
    try:
        following, followers = await store.relationships.count_with_domain(domain.lower())
        cached = await store.statuses.count_by_domain(domain.lower())
    finally:
        await store.close()
    _print_json(
        {
            "domain": domain,
            "follows_severed": following,
            "followers_severed": followers,
            "cached_statuses": int(cached),
        }
    )
    return 0
