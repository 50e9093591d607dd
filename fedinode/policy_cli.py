"""``fedinode policy check | explain | log | impact``."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from activitypub.policy_gate import PolicyGate, allow_from_row, block_from_row, valid_row
from fedinode.config import Config
from policy.errors import PolicyConfigError
from policy.pipeline import Pipeline
from storage.db import sqlite_path
from storage.models import DomainAllowRow, DomainBlockRow
from storage.paging import Page
from storage.store import Store

_DB_TIMEOUT = 10.0


def _print_json(value: Any, *, indent: bool = True) -> None:
    option = orjson.OPT_INDENT_2 if indent else 0
    sys.stdout.write(orjson.dumps(value, option=option).decode() + "\n")


def check(config: Config) -> int:
    """Print the effective policy: the file's (already validated by loading it) merged with
    the database's domain rules when the database is reachable. A database rule the engine
    refuses exits 2 naming it."""
    from fedinode.cli import UsageError

    url = config.database.url
    try:
        if url.startswith("sqlite:") and not os.path.exists(sqlite_path(url)):
            # Do not create a database just to check a file.
            pipeline, db_note = Pipeline(config.policy), "no database yet: the file's policy only"
        else:
            pipeline, db_note = asyncio.run(_effective(config))
    except PolicyConfigError as exc:
        raise UsageError(f"database {exc}") from None
    _print_json(pipeline.describe(private=True))
    settings = pipeline.settings
    print(
        f"policy ok: mode {settings.mode}, {len(settings.domain_blocks)} domain block(s), "
        f"{len(settings.domain_allows)} allow(s), {len(settings.rules)} rule(s)"
        + (", dry run" if settings.dry_run else "")
        + f"; {db_note}",
        file=sys.stderr,
    )
    return 0


async def _effective(config: Config) -> tuple[Pipeline, str]:
    """The file's policy merged with the database's rules, and a note on where they came from."""
    url = config.database.url
    try:
        store = await asyncio.wait_for(Store.open(url, run_migrations=False), _DB_TIMEOUT)
    except Exception as exc:
        return Pipeline(
            config.policy
        ), f"database not reachable ({_short(exc)}): the file's policy only"
    try:
        blocks = await store.policy.domain_blocks()
        allows = await store.policy.domain_allows()
    except Exception as exc:
        return Pipeline(
            config.policy
        ), f"database not readable ({_short(exc)}): the file's policy only"
    finally:
        await store.close()
    rows: list[DomainBlockRow | DomainAllowRow] = [*blocks, *allows]
    for row in rows:
        if not valid_row(row):
            kind = "domain_blocks" if isinstance(row, DomainBlockRow) else "domain_allows"
            raise PolicyConfigError(f"{kind}[id={row.id}]", f"invalid rule for {row.domain!r}")
    pipeline = Pipeline(
        config.policy.merged(
            [block_from_row(r) for r in blocks], [allow_from_row(r) for r in allows]
        )
    )
    return pipeline, f"{len(blocks)} block(s) and {len(allows)} allow(s) from the database"


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


async def _gate(config: Config) -> tuple[Store, PolicyGate]:
    store = await Store.open(
        config.database.url, events_url=config.events.url, events_prefix=config.events_prefix
    )
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
    from fedinode.services.policy import explain as explain_activity

    store, gate = await _gate(config)
    try:
        result = explain_activity(gate, activity, peer).to_json()
        # The peer named, else the actor's host (as the explanation found it).
        first_contact, limits = await _peer_standing(config, store, gate, result["peer"] or "")
    finally:
        await store.close()
    # How the host is met (first_contact) and what it used of its limits (peer_limit).
    result["first_contact"] = first_contact
    result["peer_limits"] = limits
    host = result["host"]
    rules: list[dict[str, Any]] = result["rules"]
    peer = result["peer"]
    if as_json:
        _print_json(result)
    else:
        if host is not None:
            print(
                f"host {peer}: {'allowed' if host['allowed'] else 'refused'}"
                + (f" by {host['rule']}: {host['reason']}" if host["rule"] else "")
            )
        for v in rules:
            print(" ".join(f"{k}={v[k]}" for k in v))
        if first_contact is not None:
            print(f"first_contact: {peer} is {first_contact['standing']}"
                  + (" (its activities are held for an admin)" if first_contact["held"] else ""))  # fmt: skip
        for key, use in limits.items():
            print(f"peer_limit: {key} = {use['limit']}, used {use['used']} in this window")
        print(f"final: {result['final']}")
    return 0


async def _peer_standing(
    config: Config, store: Store, gate: PolicyGate, peer: str
) -> tuple[dict[str, Any] | None, dict[str, dict[str, int]]]:
    """The quarantine's view of ``peer`` (None when first_contact = accept or no peer) and
    its per-peer limits in the current windows."""
    if not peer:
        return None, {}
    from activitypub.peer_limits import PeerLimiter
    from activitypub.quarantine import FirstContact
    from fedinode.app import federation_settings

    first = FirstContact(store, gate, federation_settings(config.resolved()))
    standing = await first.standing(peer)
    limits = await PeerLimiter(store, gate).standing(peer)
    if standing == "off":
        return None, limits
    return {"standing": standing, "held": standing in ("new", "held")}, limits


async def show_log(
    config: Config,
    *,
    limit: int,
    as_json: bool,
    direction: str | None = None,
    peer: str | None = None,
    rule: str | None = None,
) -> int:
    """The newest decisions first, optionally only one direction, peer or rule."""
    from fedinode.services.policy import decision_source

    store = await Store.open(
        config.database.url, events_url=config.events.url, events_prefix=config.events_prefix
    )
    try:
        rows = await store.policy.decisions(
            Page(limit=max(1, min(limit, 10_000))),
            direction=direction,
            peer=peer.lower() if peer else None,
            rule=rule,
        )
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
            # Where a change came from: a subscribed list's URL for its entries.
            "source": decision_source(r),
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


async def impact(config: Config, domain: str, severity: str = "suspend") -> int:
    """What suspending DOMAIN would sever now (the admin API's preview), as JSON."""
    from fedinode.cli import UsageError
    from fedinode.errors import ValidationFailed
    from fedinode.services import policy as policy_service

    store, gate = await _gate(config)
    try:
        found = await policy_service.preview(store, gate, domain, severity)
    except ValidationFailed as exc:
        raise UsageError(f"domain: {exc.message.removeprefix('Validation failed: ')}") from None
    finally:
        await store.close()
    _print_json(
        {
            "domain": found.domain,
            "severity": found.severity,
            "domains": list(found.domains),
            "follows_severed": found.follows_severed,
            "followers_severed": found.followers_severed,
            "follow_requests_dropped": found.follow_requests_dropped,
            "cached_statuses": found.cached_statuses,
        }
    )
    return 0
