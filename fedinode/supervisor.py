"""``fedinode serve --workers N``: N processes serve one port; this one starts, watches, stops them.

The supervisor binds each child's socket itself (SO_REUSEPORT, so the kernel spreads new
connections over every socket listening on the port) and hands it over by inheritance,
keeping no copy. The child starts listening only once its application is up, so no
connection waits on a child that is still starting; when a child dies its socket goes with
it and new connections go to the others until it is started again on a fresh one.

Children are ordinary ``fedinode serve`` processes told their place by one environment
variable (``Slot``). Child 0 starts first and alone, so first-start work (the instance
actor) happens once, and it runs the jobs a fleet runs once (pruning, announcing ended
polls). Each child holds one end of a socket pair whose other end stays here: it says
``ready`` on it, and it stops when the supervisor is gone (the pair reads end-of-file), so a
killed supervisor leaves nothing serving behind it.

SIGTERM or SIGINT here: every child gets SIGTERM, finishes its requests and queue work, and
exits; then the supervisor does. SIGHUP is passed on (each child re-reads the policy).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson

log = logging.getLogger("fedinode.supervisor")

ENV_SLOT = "FEDINODE_WORKER_SLOT"  # set by the supervisor in each child's environment
EXIT_REFUSED = 2  # a child that exits 2 refused the configuration: every child would
STOP_TIMEOUT = 25.0  # seconds a child has to finish after SIGTERM (systemd waits 30)
_RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)  # after quick successive deaths
_STABLE_AFTER = 30.0  # seconds of life after which a death counts as the first again


@dataclass(frozen=True, slots=True)
class Slot:
    """A child's place in the fleet: its index, the fleet's size and its inherited fds."""

    index: int
    count: int
    listen_fds: tuple[int, ...]
    control_fd: int

    @property
    def periodic(self) -> bool:
        """Whether this child runs the jobs the fleet runs once."""
        return self.index == 0

    def encode(self) -> str:
        return orjson.dumps(
            {"index": self.index, "count": self.count, "listen": list(self.listen_fds),
             "control": self.control_fd}
        ).decode()  # fmt: skip

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Slot | None:
        raw = environ.get(ENV_SLOT)
        if not raw:
            return None
        data = orjson.loads(raw)
        return cls(
            index=int(data["index"]),
            count=int(data["count"]),
            listen_fds=tuple(int(fd) for fd in data["listen"]),
            control_fd=int(data["control"]),
        )


def worker_count(configured: int) -> int:
    """``[server] workers`` / ``--workers``: 0 means one per core this process may use."""
    if configured > 0:
        return configured
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _addresses(host: str, port: int) -> list[tuple[int, tuple[object, ...]]]:
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    seen: list[tuple[int, tuple[object, ...]]] = []
    for family, _, _, _, address in infos:
        if (family, address) not in seen:
            seen.append((family, address))
    return seen


def _refuse_if_taken(family: int, address: tuple[object, ...]) -> None:
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        probe.bind(address)


@dataclass(frozen=True, slots=True)
class Listen:
    """Where the fleet listens: every address ``host`` resolves to, on ``port``."""

    addresses: tuple[tuple[int, tuple[object, ...]], ...]

    @classmethod
    def check(cls, host: str, port: int) -> Listen:
        """The addresses, after checking nothing listens there yet (OSError if something
        does: SO_REUSEPORT would silently share the port with, say, a fleet started twice)."""
        if not hasattr(socket, "SO_REUSEPORT"):
            raise OSError("this platform has no SO_REUSEPORT: set [server] workers = 1")
        addresses = tuple(_addresses(host, port))
        for family, address in addresses:
            _refuse_if_taken(family, address)
        return cls(addresses)

    def bind(self) -> list[socket.socket]:
        """One child's sockets: bound, not yet listening (the child listens once it serves)."""
        group: list[socket.socket] = []
        try:
            for family, address in self.addresses:
                sock = socket.socket(family, socket.SOCK_STREAM)
                group.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
        except BaseException:
            for sock in group:
                sock.close()
            raise
        return group


@dataclass(eq=False)
class _Child:
    index: int
    process: asyncio.subprocess.Process | None = None
    control: socket.socket | None = None
    started_at: float = 0.0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    deaths: int = 0
    reload_pending: bool = False  # a SIGHUP came while it was starting


class Supervisor:
    """Runs ``command`` (a ``fedinode serve`` without ``--workers``) as ``count`` children."""

    def __init__(
        self,
        command: Sequence[str],
        count: int,
        listen: Listen | None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.command = list(command)
        self.count = count
        self.environ = dict(os.environ if environ is None else environ)
        self.environ.pop(ENV_SLOT, None)
        self.listen = listen  # None: no port (``--role worker``)
        self.children = [_Child(i) for i in range(count)]
        self.stopping = asyncio.Event()
        self.served = False  # once worker 0 has served
        self.exit_code = 0

    # -- one child ------------------------------------------------------------------------

    async def _start(self, child: _Child) -> None:
        sockets = self.listen.bind() if self.listen is not None else []
        ours, theirs = socket.socketpair()
        ours.setblocking(False)
        slot = Slot(child.index, self.count, tuple(s.fileno() for s in sockets), theirs.fileno())
        env = {**self.environ, ENV_SLOT: slot.encode()}
        child.ready.clear()
        child.reload_pending = False  # it reads the file as it starts
        try:
            # A session of its own: a terminal's Ctrl-C reaches the supervisor only, which
            # stops the children in order instead of racing them.
            child.process = await asyncio.create_subprocess_exec(
                *self.command,
                env=env,
                pass_fds=(*slot.listen_fds, theirs.fileno()),
                start_new_session=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            # The child's now: its socket leaves the port with it.
            theirs.close()
            for sock in sockets:
                sock.close()
        child.control, child.started_at = ours, time.monotonic()
        log.info("worker %d started (pid %d)", child.index, child.process.pid)

    async def _await_ready(self, child: _Child) -> bool:
        """True once the child says it serves; False if it exits (or closes) first."""
        assert child.control is not None
        loop = asyncio.get_running_loop()
        with contextlib.suppress(OSError):
            data = await loop.sock_recv(child.control, 64)
            if data.startswith(b"ready"):
                child.ready.set()
                if child.reload_pending:
                    # It may have read the file before the change: reload it now.
                    child.reload_pending = False
                    self._signal(child, signal.SIGHUP)
                return True
        return False

    async def _run_child(self, child: _Child) -> int:
        """Start the child and wait for it to exit; its exit code."""
        await self._start(child)
        assert child.process is not None
        readiness = asyncio.create_task(self._await_ready(child))
        try:
            return await child.process.wait()
        finally:
            readiness.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await readiness
            if child.control is not None:
                child.control.close()
                child.control = None

    async def _keep(self, child: _Child) -> None:
        """Run the child until the fleet stops, starting it again whenever it dies."""
        while not self.stopping.is_set():
            code = await self._run_child(child)
            if self.stopping.is_set():
                return
            lived = time.monotonic() - child.started_at
            if code == EXIT_REFUSED and not self.served:
                # Refused before the fleet ever served (e.g. a moved instance): every child
                # would. Later (a config file edited since) the others go on serving.
                log.error("worker %d refused to start (exit %d): stopping", child.index, code)
                self.exit_code = EXIT_REFUSED
                self.stopping.set()
                return
            child.deaths = 1 if lived >= _STABLE_AFTER else child.deaths + 1
            delay = _RESTART_DELAYS[min(child.deaths, len(_RESTART_DELAYS)) - 1]
            log.warning(
                "worker %d (pid %s) exited with %s after %.1f s; starting it again in %.1f s",
                child.index, child.process.pid if child.process else "?", code, lived, delay,
            )  # fmt: skip
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), delay)

    # -- the fleet ------------------------------------------------------------------------

    async def run(self) -> int:
        """Serve until SIGTERM/SIGINT; the exit code of the whole command."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._forward, signal.SIGHUP)
        keepers: list[asyncio.Task[None]] = []
        try:
            first = self.children[0]
            keepers.append(asyncio.create_task(self._keep(first)))
            # The first child alone until it serves: first-start work happens once.
            ready = asyncio.create_task(first.ready.wait())
            stop = asyncio.create_task(self.stopping.wait())
            await asyncio.wait({ready, stop, keepers[0]}, return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()
            stop.cancel()
            if not self.stopping.is_set() and first.ready.is_set():
                self.served = True
                keepers.extend(asyncio.create_task(self._keep(c)) for c in self.children[1:])
                log.info("serving with %d worker processes", self.count)
            await self.stopping.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            self.stopping.set()
            await self._stop_all()
            for task in keepers:
                task.cancel()
            await asyncio.gather(*keepers, return_exceptions=True)
        return self.exit_code

    def _forward(self, sig: int) -> None:
        for child in self.children:
            if child.ready.is_set():
                self._signal(child, sig)
            else:
                child.reload_pending = True

    @staticmethod
    def _signal(child: _Child, sig: int) -> None:
        if child.process is not None and child.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(sig)

    async def _stop_all(self) -> None:
        running = [
            c.process for c in self.children
            if c.process is not None and c.process.returncode is None
        ]  # fmt: skip
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        if not running:
            return
        _, late = await asyncio.wait(
            [asyncio.create_task(p.wait()) for p in running], timeout=STOP_TIMEOUT
        )
        if late:
            log.warning("%d worker(s) still running %.0f s after SIGTERM: killed", len(late),
                        STOP_TIMEOUT)  # fmt: skip
            for process in running:
                if process.returncode is None:
                    with contextlib.suppress(ProcessLookupError):
                        process.kill()
            await asyncio.gather(*(p.wait() for p in running), return_exceptions=True)


def child_command(config_path: str | None, log_level: str, role: str) -> list[str]:
    """The command line of one child: this same ``fedinode serve``, one process."""
    command = [sys.executable, "-m", "fedinode.cli"]
    if config_path:
        command += ["--config", os.path.abspath(config_path)]
    return [*command, "--log-level", log_level, "serve", "--role", role, "--workers", "1"]
