"""The ``fedinode`` command: serve, migrate, user, policy, demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

import orjson

from fedinode.config import Config, ConfigError, config_path_from, load_config

if TYPE_CHECKING:
    from fedinode.supervisor import Slot

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or configuration: one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"fedinode: error: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="fedinode", description="ActivityPub server for federations of community instances"
    )
    parser.add_argument("--config", help="TOML configuration file (or FEDINODE_CONFIG)")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--role", choices=("all", "web", "worker"), default="all")
    serve.add_argument(
        "--workers", type=_workers, default=None, metavar="N",
        help="processes serving the port (default [server] workers; 0 = one per core)",
    )  # fmt: skip

    sub.add_parser("migrate", help="apply database migrations")

    user = sub.add_parser("user", help="manage local users")
    user_sub = user.add_subparsers(dest="user_command", required=True, parser_class=_Parser)
    create = user_sub.add_parser("create", help="create a local user")
    create.add_argument("username")
    create.add_argument("--email", required=True)
    create.add_argument("--password", required=True)
    create.add_argument("--admin", action="store_true")
    create.add_argument("--display-name", default="")
    create.add_argument("--locked", action="store_true")
    password = user_sub.add_parser(
        "password",
        help="set a local user's password and sign out all its sessions",
        description="Prompts twice on a terminal; otherwise reads one line from standard input."
        " Never takes the password on the command line. Revokes every access token of the user.",
    )
    password.add_argument("username")

    pol = sub.add_parser("policy", help="inspect the federation policy")
    pol_sub = pol.add_subparsers(dest="policy_command", required=True, parser_class=_Parser)
    pol_sub.add_parser("check", help="validate and print the effective policy")
    explain = pol_sub.add_parser("explain", help="run one activity through the policy")
    explain.add_argument("activity", help="a JSON file holding one activity")
    explain.add_argument("--from", dest="peer", default="", help="the sending host")
    explain.add_argument("--json", action="store_true")
    log_cmd = pol_sub.add_parser("log", help="print recorded policy decisions")
    log_cmd.add_argument("--limit", type=int, default=50)
    log_cmd.add_argument("--json", action="store_true")
    log_cmd.add_argument("--direction", choices=("inbound", "outbound", "fetch"))
    log_cmd.add_argument("--peer", help="only decisions about this host")
    log_cmd.add_argument("--rule", help="only decisions by this rule")
    impact = pol_sub.add_parser("impact", help="what suspending a domain would sever")
    impact.add_argument("domain")
    from fedinode.policy_lists_cli import add_commands

    add_commands(pol_sub)
    from fedinode.quarantine_cli import add_commands as add_quarantine_commands

    add_quarantine_commands(pol_sub)

    media = sub.add_parser("media", help="manage stored media")
    media_sub = media.add_subparsers(dest="media_command", required=True, parser_class=_Parser)
    prune = media_sub.add_parser(
        "prune", help="remove cached remote media not served for a number of days"
    )
    prune.add_argument("--older-than", dest="older_than", type=_days, default=7.0,
                       metavar="DAYS", help="days since last served (default 7)")  # fmt: skip

    from fedinode.emoji_cli import add_commands as add_emoji_commands

    add_emoji_commands(sub, _Parser)
    backup = sub.add_parser("backup", help="copy the database, media and config into a folder")
    backup.add_argument("path", metavar="PATH", help="a new (or empty) folder")
    restore = sub.add_parser("restore", help="load a backup into an empty instance")
    restore.add_argument("path", metavar="PATH", help="a folder made by fedinode backup")

    demo = sub.add_parser("demo", help="run several instances federating on loopback")
    demo.add_argument("--directory", default="fedinode-demo")
    demo.add_argument("--base-port", type=int, default=8081)
    demo.add_argument("--count", type=int, default=3)
    return parser


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of processes: {text!r}") from None
    if not 0 <= value <= 256:
        raise argparse.ArgumentTypeError(f"must be between 0 and 256, got {value}")
    return value


def _days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {value!r}") from None
    if not days >= 0 or days == float("inf"):
        raise argparse.ArgumentTypeError(f"must be zero or more days, got {value!r}")
    return days


def _load(args: argparse.Namespace) -> Config:
    try:
        return load_config(config_path_from(args.config))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None


def main(argv: Sequence[str] | None = None) -> int:
    # Not kept: the parser and its subcommand tree would stay alive as long as the server.
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "serve": _serve,
        "migrate": _migrate,
        "user": _user,
        "policy": _policy,
        "media": _media,
        "emoji": _emoji,
        "backup": _backup,
        "restore": _restore,
        "demo": _demo,
    }
    try:
        return commands[args.command](args)
    except UsageError as exc:
        print(f"fedinode: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK


def _run(coro: Awaitable[Any]) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)  # type: ignore[arg-type]
    except ImportError:  # pragma: no cover - platforms without uvloop
        return asyncio.run(coro)  # type: ignore[arg-type]


# -- serve ------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    import os

    from fedinode.supervisor import ENV_SLOT, Slot, worker_count

    config = _load(args)
    if args.role != "all" and config.database.url.startswith("sqlite:"):
        raise UsageError(
            f'serve --role {args.role} needs PostgreSQL ([database] url = "postgresql://…"): '
            "SQLite is one machine's database; use --workers N to serve from every core"
        )
    slot = Slot.from_environ(os.environ)
    os.environ.pop(ENV_SLOT, None)  # not for the processes this one starts
    if slot is not None:
        # A reload passed on while this worker starts must not end it (SIGHUP's default):
        # it is reading the file anyway. serve() takes SIGHUP over once it runs.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    count = (
        1
        if slot is not None
        else worker_count(config.server.workers if args.workers is None else args.workers)
    )
    if count > 1:
        return _supervise(args, config, count)
    from activitypub.federation import InstanceMoved

    try:
        _run(serve(config, role=args.role, slot=slot))
    except InstanceMoved as exc:
        scheme, _, where = exc.stored_base.partition("://")
        setting = f'[instance] domain = "{where}"' + (
            ' with [federation] scheme = "http"' if scheme == "http" else ""
        )
        raise UsageError(
            f"instance.domain: this database's ids name {exc.stored_base}, not "
            f"{exc.expected_base}; serve it there again ({setting}, or for a local instance "
            "the [server] host and port it ran on) or use a new database"
        ) from None
    return EXIT_OK


def _supervise(args: argparse.Namespace, config: Config, count: int) -> int:
    """``serve`` with more than one process: check the port, run the supervisor (which
    starts worker 0 alone: its migrations and first-start work happen once)."""
    from fedinode.logs import configure_logging
    from fedinode.supervisor import Listen, Supervisor, child_command

    configure_logging(config)
    _announce(config)
    listen = None
    if args.role in ("all", "web"):
        try:
            listen = Listen.check(config.server.host, config.server.port)
        except OSError as exc:
            print(f"fedinode: cannot listen on {_listen_address(config)}: {exc}", file=sys.stderr)
            return EXIT_FAILURE
    command = child_command(args.config, str(args.log_level), args.role)
    return int(_run(Supervisor(command, count, listen).run()))


def _listen_address(config: Config) -> str:
    host, port = config.server.host, config.server.port
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _announce(config: Config) -> None:
    log = logging.getLogger("fedinode")
    listen = _listen_address(config)
    if config.local:
        log.info(
            "local instance at %s (no [instance] domain set: its URLs name where it is "
            "served, listening on %s; set [instance] domain to federate under a public name)",
            config.base_url,
            listen,
        )
    else:
        log.info("instance %s at %s, listening on %s", config.domain, config.base_url, listen)


async def serve(
    config: Config,
    *,
    role: str = "all",
    ready: asyncio.Event | None = None,
    slot: Slot | None = None,
) -> None:
    """Run until SIGTERM/SIGINT; then stop accepting, finish in-flight requests, stop workers.

    ``slot``: this process is one of a ``serve --workers N`` fleet; it serves the sockets
    the supervisor bound and stops when the supervisor is gone."""
    import socket

    from aiohttp import web

    from fedinode.app import create_app
    from fedinode.logs import access_log_options, configure_logging

    configure_logging(config)
    log = logging.getLogger("fedinode")
    if slot is None:
        _announce(config)
    elif config.queue.worker_name and slot.count > 1:
        # One configured name for a fleet: each worker leases as "<name>#worker<index>", so
        # that a worker starting takes back only what its own predecessor held (the same
        # name for all had each take back the rows its siblings were sending).
        config = replace(
            config,
            queue=replace(
                config.queue, worker_name=f"{config.queue.worker_name}#worker{slot.index}"
            ),
        )
    app = create_app(config, role=role, periodic=slot is None or slot.periodic)
    runner = web.AppRunner(
        app,
        **access_log_options(config),
        handle_signals=False,
        shutdown_timeout=10.0,
    )
    await runner.setup()
    sites: list[web.BaseSite] = []
    if slot is not None:
        adopted = [socket.socket(fileno=fd) for fd in slot.listen_fds]
        for sock in adopted:
            sock.set_inheritable(False)  # not into the signing workers this process starts
        sites = [web.SockSite(runner, sock) for sock in adopted]
    elif role in ("all", "web"):
        sites = [web.TCPSite(runner, config.server.host, config.server.port, reuse_address=True)]
    for site in sites:
        await site.start()
    if sites:
        log.info(
            "fedinode serving %s on http://%s:%s (role %s%s)",
            config.base_url,
            config.server.host,
            config.server.port,
            role,
            "" if slot is None else f", worker {slot.index} of {slot.count}",
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(reload_policy(app)))
    control = None
    if slot is not None:
        # The supervisor hears "ready" here; end-of-file here means it is gone: stop too.
        control = socket.socket(fileno=slot.control_fd)
        control.set_inheritable(False)
        control.setblocking(False)
        try:
            control.sendall(b"ready\n")
        except OSError:  # the supervisor died while this worker started: stop with it
            log.warning("the supervisor is gone; worker %s stops", slot.index)
            stop.set()
        else:
            loop.add_reader(control.fileno(), _on_control, control, stop)
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        if control is not None:
            loop.remove_reader(control.fileno())
        await runner.cleanup()
        if control is not None:
            control.close()


def _on_control(control: Any, stop: asyncio.Event) -> None:
    try:
        data = control.recv(64)
    except (BlockingIOError, InterruptedError):
        return
    except OSError:
        data = b""
    if not data:
        logging.getLogger("fedinode").warning("the supervisor is gone: stopping")
        stop.set()


async def reload_policy(app: Any) -> bool:
    """SIGHUP: re-read the config file's policy; a bad file is refused and the old policy stays."""
    from fedinode import appkeys

    log = logging.getLogger("fedinode.policy")
    from fedinode.services.policy import sever_newly_refused

    config = app[appkeys.CONFIG]
    gate = app[appkeys.POLICY]
    try:
        fresh = load_config(config.source or None)
        before = gate.pipeline
        await gate.refresh(fresh.policy)
    except Exception as exc:
        log.error("policy reload refused, the policy in force stays: %s", exc)
        return False
    log.info("policy reloaded from %s", config.source or "defaults")
    if not app[appkeys.PERIODIC]:
        return True  # every worker of a fleet reloads; one of them severs follows, once
    # As with an admin API block: follows with peers the new policy refuses are cut both ways.
    try:
        impact = await sever_newly_refused(app[appkeys.STORE], before, gate.pipeline, reason="reload")
    except Exception:
        log.exception("policy reloaded, but severing follows with newly refused peers failed")
        return True
    if impact.domains:
        log.info(
            "policy reload severed %d follow(s) and %d follower(s) with %s",
            impact.follows_severed, impact.followers_severed, ", ".join(impact.domains),
        )
    return True


# -- migrate ----------------------------------------------------------------------------


def _migrate(args: argparse.Namespace) -> int:
    config = _load(args)

    async def run() -> list[str]:
        from storage.db import open_database
        from storage.migrate import migrate

        db = await open_database(config.database.url)
        try:
            return await migrate(db)
        finally:
            await db.close()

    applied = _run(run())
    print(
        f"applied {len(applied)} migration(s)"
        + (": " + ", ".join(applied) if applied else "; schema is current")
    )
    return EXIT_OK


# -- user -------------------------------------------------------------------------------


def _user(args: argparse.Namespace) -> int:
    config = _load(args)
    if args.user_command == "password":
        return int(_run(_set_password(config, args.username)))

    async def run() -> int:
        from activitypub.urls import Urls
        from fedinode.errors import ValidationFailed
        from fedinode.services.passwords import cost_from_config
        from fedinode.services.users import create_local_user
        from storage.errors import Conflict
        from storage.store import Store

        store = await Store.open(
            config.database.url, events_url=config.events.url, events_prefix=config.events_prefix
        )
        try:
            await store.claim_process_slot()  # its ids never meet a running server's
            _, account = await create_local_user(
                store,
                Urls(config.base_url),
                username=args.username,
                email=args.email,
                password=args.password,
                admin=args.admin,
                display_name=args.display_name,
                locked=args.locked,
                cost=cost_from_config(config.passwords),
            )
        except (Conflict, ValidationFailed) as exc:
            raise UsageError(str(exc)) from None
        finally:
            await store.close()
        print(f"created @{account.username}@{config.domain} ({account.uri})")
        return EXIT_OK

    return int(_run(run()))


def _read_new_password() -> str:
    """Twice from the terminal, without echo; else one line from standard input (scripts)."""
    if sys.stdin.isatty():
        import getpass

        try:
            first = getpass.getpass("New password: ")
            again = getpass.getpass("Repeat the new password: ")
        except (EOFError, KeyboardInterrupt):
            raise UsageError("cancelled; nothing changed") from None
        if again != first:
            raise UsageError("the passwords do not match; nothing changed")
        return first
    return sys.stdin.readline().rstrip("\r\n")


async def _set_password(config: Config, username: str) -> int:
    from fedinode.errors import ValidationFailed
    from fedinode.services.passwords import cost_from_config
    from fedinode.services.users import set_password
    from storage.store import Store

    store = await Store.open(
        config.database.url, events_url=config.events.url, events_prefix=config.events_prefix
    )
    try:
        user = await store.users.by_username(username.removeprefix("@"))
        if user is None:
            raise UsageError(f"no local user {username!r}; nothing changed")
        try:
            revoked = await set_password(
                store, user, _read_new_password(), cost_from_config(config.passwords)
            )
        except ValidationFailed as exc:
            raise UsageError(f"{exc.message}; nothing changed") from None
    finally:
        await store.close()
    print(f"password of {username} changed; {revoked} access token(s) revoked")
    return EXIT_OK


# -- policy -----------------------------------------------------------------------------


def _policy(args: argparse.Namespace) -> int:
    config = _load(args)
    from fedinode import policy_cli

    if args.policy_command == "check":
        return policy_cli.check(config)
    if args.policy_command == "explain":
        return int(_run(policy_cli.explain(config, args.activity, args.peer, as_json=args.json)))
    if args.policy_command == "log":
        return int(
            _run(
                policy_cli.show_log(
                    config,
                    limit=args.limit,
                    as_json=args.json,
                    direction=args.direction,
                    peer=args.peer,
                    rule=args.rule,
                )
            )
        )
    if args.policy_command == "impact":
        return int(_run(policy_cli.impact(config, args.domain)))
    from fedinode import policy_lists_cli

    if args.policy_command in policy_lists_cli.COMMANDS:
        return policy_lists_cli.run(config, args, _run)
    if args.policy_command == "quarantine":
        from fedinode import quarantine_cli

        return quarantine_cli.run(config, args, _run)
    raise UsageError(f"unknown policy command {args.policy_command}")


# -- media ------------------------------------------------------------------------------


def _media(args: argparse.Namespace) -> int:
    config = _load(args)
    from fedinode import media_cli

    return int(_run(media_cli.prune_cache(config, args.older_than)))


# -- emoji ------------------------------------------------------------------------------


def _emoji(args: argparse.Namespace) -> int:
    config = _load(args)
    from fedinode import emoji_cli

    return emoji_cli.run(config, args, _run, UsageError)

# -- backup and restore -------------------------------------------------------------------


def _backup(args: argparse.Namespace) -> int:
    config = _load(args)
    from fedinode import backup
    from storage.backup import BackupError

    try:
        manifest = _run(backup.backup(config, args.path))
    except backup.BackupRefused as exc:
        raise UsageError(str(exc)) from None
    except BackupError as exc:
        print(f"fedinode: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    counts = ", ".join(f"{v} {k}" for k, v in manifest["counts"].items())
    media = manifest["media"]
    print(f"backup written to {args.path}: {counts}; {media['files']} media files")
    return EXIT_OK


def _restore(args: argparse.Namespace) -> int:
    config = _load(args)
    from fedinode import backup
    from storage.backup import BackupError

    try:
        counts = _run(backup.restore(config, args.path))
    except backup.BackupRefused as exc:
        raise UsageError(str(exc)) from None
    except BackupError as exc:
        print(f"fedinode: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"restored from {args.path}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return EXIT_OK


# -- demo -------------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    from fedinode import demo

    _run(demo.run_demo(args.directory, base_port=args.base_port, count=args.count))
    return EXIT_OK


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()


if __name__ == "__main__":  # pragma: no cover
    # Run the imported module, not this __main__ copy: helpers (policy_cli) raise
    # fedinode.cli.UsageError, which must be the class main() catches.
    from fedinode.cli import main as _main

    sys.exit(_main())
