"""``fedinode policy quarantine list|release HOST|reject HOST``: the first-contact queue
from the command line (the same services as the admin API; a running server's inbox worker
processes what a release queues)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from activitypub.policy_gate import PolicyGate
from fedinode.config import Config
from fedinode.errors import NotFoundError, ValidationFailed
from fedinode.services import quarantine as service
from storage.store import Store

BY = "cli"  # decided_by of a decision taken here


def add_commands(pol_sub: Any) -> None:
    """Add ``quarantine`` to ``fedinode policy``'s subparsers."""
    q = pol_sub.add_parser("quarantine", help="hosts held at first contact")
    q_sub = q.add_subparsers(dest="quarantine_command", required=True)
    listing = q_sub.add_parser("list", help="print the held hosts, oldest first")
    listing.add_argument("--state", choices=service.STATES, default="held")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    release = q_sub.add_parser("release", help="let a host in; process what it sent, in order")
    release.add_argument("host")
    reject = q_sub.add_parser("reject", help="drop what a host sent and suspend it")
    reject.add_argument("host")


def run(config: Config, args: argparse.Namespace, runner: Callable[[Any], Any]) -> int:
    from fedinode.cli import UsageError

    try:
        return int(runner(_dispatch(config.resolved(), args)))
    except ValidationFailed as exc:
        raise UsageError(exc.message.removeprefix("Validation failed: ")) from None
    except NotFoundError:
        raise UsageError(f"host: {args.host} is not in the quarantine") from None


def _time(ms: int | None) -> str:
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


async def _dispatch(config: Config, args: argparse.Namespace) -> int:
    from fedinode.app import federation_settings

    settings = federation_settings(config)
    store = await Store.open(config.database.url)
    try:
        await store.claim_process_slot()  # its ids never meet a running server's
        gate = PolicyGate(config.policy, store)
        await gate.refresh()
        command = args.quarantine_command
        if command == "list":
            views = await service.list_hosts(store, settings, args.state)
            for view in views:
                row = view.row
                if args.json:
                    print(json.dumps({
                        "host": row.host, "state": row.state, "held": row.held,
                        "first_seen_at": _time(row.first_seen_at),
                        "expires_at": _time(view.expires_at) if view.expires_at else None,
                        "decided_by": row.decided_by or None,
                    }))  # fmt: skip
                else:
                    print(f"{row.host}  {row.state}  {row.held} held  first seen "
                          f"{_time(row.first_seen_at)}  decided "
                          f"{_time(view.expires_at) if view.expires_at else 'by an admin'}"
                          f"{'' if row.state == 'held' else ' (' + row.decided_by + ')'}")  # fmt: skip
            if not views and not args.json:
                print(f"no {args.state} hosts" if args.state != "all" else "no hosts")
            return 0
        if command == "release":
            decided = await service.release(store, gate, args.host, by=BY)
            print(f"released {decided.host}: {len(decided.activities)} held activities queued "
                  "for the inbox, in arrival order")  # fmt: skip
            return 0
        decided = await service.reject(store, gate, args.host, by=BY)
        suspended = "; suspended by a domain block" if decided.blocked else ""
        print(f"rejected {decided.host}: {len(decided.activities)} held activities dropped"
              f"{suspended}")  # fmt: skip
        return 0
    finally:
        await store.close()
