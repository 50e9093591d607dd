"""``fedinode policy publish|unpublish|subscriptions …``: the published list and the
subscribed ones from the command line (the same services as the admin API)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from activitypub.fetch import Fetcher, make_client_session
from activitypub.keys import KeyCache
from activitypub.policy_gate import PolicyGate
from activitypub.urls import Urls
from fedinode.config import Config
from fedinode.errors import ValidationFailed
from fedinode.services import policy_lists as service
from storage.policy_lists import SubscriptionRow
from storage.store import Store


def add_commands(pol_sub: Any) -> None:
    """Add the list commands to ``fedinode policy``'s subparsers."""
    for name, help_text in (("publish", "list rules in the published, signed policy list"),
                            ("unpublish", "take rules out of the published policy list")):  # fmt: skip
        cmd = pol_sub.add_parser(name, help=help_text)
        which = cmd.add_mutually_exclusive_group(required=True)
        which.add_argument("domain", nargs="?", help="the domain of a block (or --allow)")
        which.add_argument("--all", action="store_true", help="every block (or allow)")
        cmd.add_argument("--allow", action="store_true", help="a domain allow, not a block")
    subs = pol_sub.add_parser("subscriptions", help="other instances' published lists")
    subs_sub = subs.add_subparsers(dest="subscriptions_command", required=True)
    subs_sub.add_parser("list", help="print the subscriptions")
    add = subs_sub.add_parser("add", help="subscribe to a list URL")
    add.add_argument("url")
    add.add_argument("--mode", choices=("apply", "review"), default="apply")
    add.add_argument("--priority", type=int, default=0)
    add.add_argument("--exclude", action="append", default=[], help="a domain never taken")
    add.add_argument("--severity", action="append", choices=("suspend", "silence", "noop"),
                     help="take only blocks of these severities (repeat)")  # fmt: skip
    add.add_argument("--allow-unsigned", action="store_true",
                     help="accept unsigned JSON and CSV from this URL")  # fmt: skip
    add.add_argument("--title", default="")
    sync = subs_sub.add_parser("sync", help="fetch and apply the lists now")
    sync.add_argument("url", nargs="?", help="only this subscription")
    remove = subs_sub.add_parser("remove", help="unsubscribe (the rules made stay, as yours)")
    remove.add_argument("url")


COMMANDS = frozenset({"publish", "unpublish", "subscriptions"})


def run(config: Config, args: argparse.Namespace, runner: Callable[[Any], Any]) -> int:
    """Run one of this module's commands (``runner`` drives the coroutine)."""
    from fedinode.cli import UsageError

    try:
        return int(runner(_dispatch(config.resolved(), args)))
    except ValidationFailed as exc:
        raise UsageError(exc.message.removeprefix("Validation failed: ")) from None


@dataclass
class _Env:
    store: Store
    gate: PolicyGate


@asynccontextmanager
async def _env(config: Config) -> AsyncIterator[_Env]:
    store = await Store.open(
        config.database.url, events_url=config.events.url, events_prefix=config.events_prefix
    )
    try:
        await store.claim_process_slot()  # its ids never meet a running server's
        gate = PolicyGate(config.policy, store)
        await gate.refresh()
        await service.reconcile_config(store, config.policy.subscriptions)
        yield _Env(store, gate)
    finally:
        await store.close()


@asynccontextmanager
async def _fetcher(config: Config, store: Store) -> AsyncIterator[Fetcher]:
    """A fetcher like the server's: guarded, signing GETs as the instance actor if any."""
    fed = config.federation
    actor = await store.accounts.by_uri(Urls(config.base_url).instance_actor)
    keys = KeyCache()
    scheme: Literal["http", "https"] = "http" if config.scheme == "http" else "https"
    session = make_client_session(scheme, fed.allow_private_addresses, fed.ca_file or None,
                                  timeout=fed.fetch_timeout_seconds)  # fmt: skip
    signer = None
    if actor is not None:
        found = actor

        def signer_of() -> Any:
            return found.public_key_id, keys.private(found.public_key_id, found.private_key_pem)

        signer = signer_of
    try:
        yield Fetcher(session, scheme=scheme, allow_private=fed.allow_private_addresses,
                      signer=signer, timeout=fed.fetch_timeout_seconds)  # fmt: skip
    finally:
        await session.close()


def _line(row: SubscriptionRow) -> str:
    state = f"error: {row.error}" if row.error else f"{row.count} entries"
    if not row.fetched_at:
        state = "never fetched"
    origin = "config" if row.from_config else "api"
    return (f"{row.url}  mode={row.mode} priority={row.priority} {origin}"
            f"{' unsigned-ok' if row.allow_unsigned else ''}  {state}")  # fmt: skip


async def _by_url(store: Store, url: str) -> SubscriptionRow:
    from fedinode.cli import UsageError

    row = await store.policy_lists.subscription_by_url(url)
    if row is None:
        raise UsageError(f"url: not subscribed to {url}")
    return row


async def _dispatch(config: Config, args: argparse.Namespace) -> int:
    async with _env(config) as env:
        store, gate = env.store, env.gate
        command = args.policy_command
        if command in ("publish", "unpublish"):
            kind = "allow" if args.allow else "block"
            domain = None if args.all else args.domain
            changed = await service.set_published(store, gate, kind, domain, command == "publish")
            verb = "published" if command == "publish" else "unpublished"
            print(f"{verb} {len(changed)} domain {kind}(s): {', '.join(changed) or '-'}")
            return 0
        sub_command = args.subscriptions_command
        if sub_command == "list":
            for row in await service.list_subscriptions(store):
                print(_line(row))
            return 0
        if sub_command == "add":
            spec = service.clean_spec(
                {
                    "url": args.url,
                    "mode": args.mode,
                    "priority": args.priority,
                    "excludes": args.exclude,
                    "severities": args.severity or ["suspend", "silence", "noop"],
                    "allow_unsigned": args.allow_unsigned,
                    "title": args.title,
                }
            )
            row = await service.create_subscription(store, spec)
            print(f"subscribed: {_line(row)}")
            return 0
        if sub_command == "remove":
            row = await service.delete_subscription(store, (await _by_url(store, args.url)).id)
            print(f"unsubscribed from {row.url}; the rules it made stay, as yours")
            return 0
        only = [(await _by_url(store, args.url)).id] if args.url else None
        async with _fetcher(config, store) as fetcher:
            results = await service.sync_all(store, gate, fetcher, only)
        failed = 0
        for result in results:
            if result.ok:
                changes = ", ".join(result.changed) or "no change"
                print(f"{result.subscription.url}: {changes}")
            else:
                failed += 1
                print(f"{result.subscription.url}: refused: {result.error}", file=sys.stderr)
        return 1 if failed else 0
