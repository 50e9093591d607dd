"""NOTIFY for SQLite: notifications reach every process that has the same database file open.

PostgreSQL hands a NOTIFY to every listener of the database; SQLite has nothing like it, and
``fedinode serve --workers N`` runs N processes over one file. So each process that listens
binds a Unix datagram socket in a directory named after the database file (its real path,
hashed: socket paths are limited to ~100 bytes), and notifications are sent as datagrams to
every other socket there (those of one commit together, as many as a datagram holds). A
datagram costs microseconds, so a post made in one process reaches a stream served by
another well within a millisecond.

As with PostgreSQL nothing is durable: a process that is not listening misses what is sent
meanwhile. A socket left behind by a killed process refuses the next datagram and is
removed then. A receiver whose buffer is full loses the datagram rather than block the sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import socket
import stat
import struct
import tempfile
from collections.abc import Callable, Sequence

log = logging.getLogger("storage.notify")

_MAX_PATH = 100  # bytes; sun_path is 104 (BSD) to 108 (Linux) with its terminator
_SEPARATOR = b"\0"
_DATAGRAM = 65536  # bytes a receiver reads at once
_LENGTH = struct.Struct(">I")

Deliver = Callable[[str, str], None]


def rendezvous(database_path: str) -> str:
    """The directory of the sockets of every process on ``database_path``."""
    real = os.path.realpath(database_path)
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return os.path.join(tempfile.gettempdir(), f"fedinode-{os.getuid()}-{digest}")


def _private_directory(path: str) -> bool:
    """Make ``path`` ours alone; False (and a warning) when it is not safe to use."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        log.warning(
            "%s is not a private directory of this user: notifications stay in this process",
            path,
        )
        return False
    return True


class Notifier:
    """This process's end of the notifications among processes sharing one SQLite file."""

    def __init__(self, database_path: str) -> None:
        self.directory = rendezvous(database_path)
        self._usable: bool | None = None  # decided on first use (no I/O in the constructor)
        self._sender: socket.socket | None = None
        self._receiver: socket.socket | None = None
        self._name = ""  # our socket's file name in the directory, once listening
        self._loop: asyncio.AbstractEventLoop | None = None

    def _ready(self) -> bool:
        if self._usable is None:
            self._usable = hasattr(socket, "AF_UNIX") and _private_directory(self.directory)
            if self._usable and len(os.fsencode(self.directory)) + 24 > _MAX_PATH:
                log.warning("%s is too long a path for sockets: notifications stay in this "
                            "process", self.directory)  # fmt: skip
                self._usable = False
        return self._usable

    def start(self, deliver: Deliver) -> None:
        """Receive other processes' notifications from now on, handing each to ``deliver``."""
        if self._receiver is not None or not self._ready():
            return
        name = f"{os.getpid()}-{secrets.token_hex(4)}"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            try:
                sock.bind(os.path.join(self.directory, name))
            except FileNotFoundError:  # the last other process just removed the directory
                if not _private_directory(self.directory):
                    raise
                sock.bind(os.path.join(self.directory, name))
            sock.setblocking(False)
        except OSError:
            sock.close()
            log.warning("could not listen in %s: notifications stay in this process",
                        self.directory, exc_info=True)  # fmt: skip
            self._usable = False
            return
        loop = asyncio.get_running_loop()
        loop.add_reader(sock.fileno(), self._receive, sock, deliver)
        self._receiver, self._name, self._loop = sock, name, loop

    @staticmethod
    def _receive(sock: socket.socket, deliver: Deliver) -> None:
        while True:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                log.warning("notification socket failed", exc_info=True)
                return
            for record in _records(data):
                channel, sep, payload = record.partition(_SEPARATOR)
                if sep:
                    deliver(channel.decode("utf-8", "replace"), payload.decode("utf-8", "replace"))

    def send(self, channel: str, payload: str) -> None:
        """Send one notification to every other process listening on this database."""
        self.send_many([(channel, payload)])

    def send_many(self, notes: Sequence[tuple[str, str]]) -> None:
        """Send notifications (channel, payload), in order, to every other process
        listening on this database: one look at who listens for all of them (a committed
        inbox batch has one per status it stored)."""
        if not notes or not self._ready():
            return
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        if self._sender is None:
            self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sender.setblocking(False)
        datagrams = _datagrams(notes)
        for name in names:
            if name == self._name:
                continue
            path = os.path.join(self.directory, name)
            for data in datagrams:
                try:
                    self._sender.sendto(data, path)
                except (ConnectionRefusedError, FileNotFoundError):
                    # Left behind by a process that was killed: nobody reads it any more.
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                    break
                except (BlockingIOError, InterruptedError):
                    pass  # that process is not reading: it misses these, as a full queue would
                except OSError:
                    log.warning("notification to %s failed", path, exc_info=True)

    def close(self) -> None:
        if self._receiver is not None:
            if self._loop is not None and not self._loop.is_closed():
                self._loop.remove_reader(self._receiver.fileno())
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.directory, self._name))
            self._receiver.close()
            self._receiver = None
            with contextlib.suppress(OSError):
                os.rmdir(self.directory)  # only when no other process is there
        if self._sender is not None:
            self._sender.close()
            self._sender = None


def _datagrams(notes: Sequence[tuple[str, str]]) -> list[bytes]:
    """Notifications as few datagrams as fit: each one records of ``length, channel NUL
    payload``, so a committed batch costs a system call (and a wake-up of each listener),
    not one per notification. A record longer than a datagram goes alone (cut short, as
    ever)."""
    out: list[bytes] = []
    current = bytearray()
    for channel, payload in notes:
        body = channel.encode() + _SEPARATOR + payload.encode()
        if current and len(current) + _LENGTH.size + len(body) > _DATAGRAM:
            out.append(bytes(current))
            current = bytearray()
        current += _LENGTH.pack(len(body))
        current += body
    if current:
        out.append(bytes(current))
    return out


def _records(data: bytes) -> list[bytes]:
    """The records of a datagram (``_datagrams``); a last one cut short, as it is."""
    out = []
    at = 0
    while at + _LENGTH.size <= len(data):
        (length,) = _LENGTH.unpack_from(data, at)
        at += _LENGTH.size
        out.append(data[at : at + length])
        at += length
    return out
